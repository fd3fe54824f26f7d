package io.moeflink.operators.loop;

import io.moeflink.engine.moe.ExpertResult;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A shard's raw expert outputs for one {@link ExpertRequest}, on its way back to the origin.
 *
 * @param origin the generation subtask the request came from
 * @param step the request's step number
 * @param shard the shard that computed it
 */
public record ExpertReply(int origin, long step, int shard, ExpertResult result) {

  public static final TypeInformation<ExpertReply> TYPE = new CodecTypeInfo<>(ExpertReply.class, Serializer::new);

  /** Wire format: header ints, then the outputs as raw F32 bits. */
  public static final class Serializer extends CodecSerializer<ExpertReply> {
    private static final long serialVersionUID = 1L;

    @Override
    protected void write(ExpertReply r, DataOutputView out) throws IOException {
      out.writeInt(r.origin);
      out.writeLong(r.step);
      out.writeInt(r.shard);
      out.writeInt(r.result.layer());
      out.writeInt(r.result.pairs());
      writeFloats(r.result.outputs(), out);
    }

    @Override
    protected ExpertReply read(DataInputView in) throws IOException {
      int origin = in.readInt();
      long step = in.readLong();
      int shard = in.readInt();
      int layer = in.readInt();
      int pairs = in.readInt();
      return new ExpertReply(origin, step, shard, new ExpertResult(layer, pairs, readFloats(in)));
    }

    @Override
    public ExpertReply createInstance() {
      return null;
    }

    @Override
    public TypeSerializerSnapshot<ExpertReply> snapshotConfiguration() {
      return new Snapshot();
    }
  }

  /** Serializer snapshot (the format has one version). */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<ExpertReply> {
    public Snapshot() {
      super(Serializer::new);
    }
  }
}
