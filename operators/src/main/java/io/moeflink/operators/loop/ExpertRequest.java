package io.moeflink.operators.loop;

import io.moeflink.engine.moe.ExpertBatch;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A generation subtask's tokens for one expert shard at one MoE layer of one step.
 *
 * @param origin the generation subtask that sent it; the reply goes back there
 * @param step the sender's step number, so a late reply of an abandoned step is recognised
 * @param shard the destination shard
 */
public record ExpertRequest(int origin, long step, int shard, ExpertBatch batch) {

  public static final TypeInformation<ExpertRequest> TYPE = new CodecTypeInfo<>(ExpertRequest.class, Serializer::new);

  /** Wire format: header ints, then the batch's hidden rows as raw F32 bits. */
  public static final class Serializer extends CodecSerializer<ExpertRequest> {
    private static final long serialVersionUID = 1L;

    @Override
    protected void write(ExpertRequest r, DataOutputView out) throws IOException {
      out.writeInt(r.origin);
      out.writeLong(r.step);
      out.writeInt(r.shard);
      ExpertBatch b = r.batch;
      out.writeInt(b.layer());
      out.writeInt(b.tokens());
      writeFloats(b.hidden(), out);
      writeInts(b.experts(), out);
      writeInts(b.expertStarts(), out);
      writeInts(b.pairTokens(), out);
    }

    @Override
    protected ExpertRequest read(DataInputView in) throws IOException {
      int origin = in.readInt();
      long step = in.readLong();
      int shard = in.readInt();
      int layer = in.readInt();
      int tokens = in.readInt();
      float[] hidden = readFloats(in);
      int[] experts = readInts(in);
      int[] starts = readInts(in);
      return new ExpertRequest(origin, step, shard, new ExpertBatch(layer, tokens, hidden, experts, starts, readInts(in)));
    }

    @Override
    public ExpertRequest createInstance() {
      return null;
    }

    @Override
    public TypeSerializerSnapshot<ExpertRequest> snapshotConfiguration() {
      return new Snapshot();
    }
  }

  /** Serializer snapshot (the format has one version). */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<ExpertRequest> {
    public Snapshot() {
      super(Serializer::new);
    }
  }
}
