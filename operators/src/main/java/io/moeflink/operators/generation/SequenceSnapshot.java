package io.moeflink.operators.generation;

import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.loop.CodecSerializer;
import io.moeflink.operators.loop.CodecTypeInfo;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What a checkpoint keeps of an in-flight sequence: its task and the tokens generated so far.
 * Never the KV cache: on restore the sequence re-prefills prompt + generated tokens, and
 * determinism makes the continuation identical.
 */
public record SequenceSnapshot(GenerationTask task, int[] generated) {

  public static final TypeInformation<SequenceSnapshot> TYPE =
      new CodecTypeInfo<>(SequenceSnapshot.class, Serializer::new);

  /** The task, then the generated tokens. */
  public static final class Serializer extends CodecSerializer<SequenceSnapshot> {
    private static final long serialVersionUID = 1L;
    private final GenerationTask.Serializer tasks = new GenerationTask.Serializer();

    @Override
    protected void write(SequenceSnapshot s, DataOutputView out) throws IOException {
      tasks.serialize(s.task, out);
      writeInts(s.generated, out);
    }

    @Override
    protected SequenceSnapshot read(DataInputView in) throws IOException {
      return new SequenceSnapshot(tasks.deserialize(in), readInts(in));
    }

    @Override
    public SequenceSnapshot createInstance() {
      return null;
    }

    @Override
    public TypeSerializerSnapshot<SequenceSnapshot> snapshotConfiguration() {
      return new Snapshot();
    }
  }

  /** Serializer snapshot (the format has one version). */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<SequenceSnapshot> {
    public Snapshot() {
      super(Serializer::new);
    }
  }
}
