package io.moeflink.operators;

import io.moeflink.operators.loop.CodecSerializer;
import io.moeflink.operators.loop.CodecTypeInfo;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A finished request: what the job turns into a {@code Completion} record.
 *
 * @param finishReason {@code stop}, {@code length} or {@code error}
 * @param error the reason, when {@code finishReason} is {@code error}; else null
 * @param text the decoded completion, or null without a tokenizer
 */
public record GenerationOutput(
    String id, int[] tokens, String text, String finishReason, String error, int promptTokens, long queuedMillis,
    long timeToFirstTokenMillis, long totalMillis, long seed, String model, Map<String, String> metadata) {

  public static final String STOP = "stop";
  public static final String LENGTH = "length";
  public static final String ERROR = "error";

  public static final TypeInformation<GenerationOutput> TYPE = new CodecTypeInfo<>(GenerationOutput.class, Serializer::new);

  public GenerationOutput {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** An error answer for a request that has an id but cannot be served. */
  public static GenerationOutput error(String id, String message, String model, Map<String, String> metadata, long seed) {
    return new GenerationOutput(id, new int[0], "", ERROR, message, 0, 0, 0, 0, seed, model, metadata);
  }

  /** Field by field. */
  public static final class Serializer extends CodecSerializer<GenerationOutput> {
    private static final long serialVersionUID = 1L;

    @Override
    protected void write(GenerationOutput o, DataOutputView out) throws IOException {
      out.writeUTF(o.id);
      writeInts(o.tokens, out);
      writeNullableString(o.text, out);
      out.writeUTF(o.finishReason);
      writeNullableString(o.error, out);
      out.writeInt(o.promptTokens);
      out.writeLong(o.queuedMillis);
      out.writeLong(o.timeToFirstTokenMillis);
      out.writeLong(o.totalMillis);
      out.writeLong(o.seed);
      writeNullableString(o.model, out);
      out.writeInt(o.metadata.size());
      for (Map.Entry<String, String> e : new java.util.TreeMap<>(o.metadata).entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
    }

    @Override
    protected GenerationOutput read(DataInputView in) throws IOException {
      String id = in.readUTF();
      int[] tokens = readInts(in);
      String text = readNullableString(in);
      String reason = in.readUTF();
      String error = readNullableString(in);
      int prompt = in.readInt();
      long queued = in.readLong();
      long ttft = in.readLong();
      long total = in.readLong();
      long seed = in.readLong();
      String model = readNullableString(in);
      int n = in.readInt();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        metadata.put(in.readUTF(), in.readUTF());
      }
      return new GenerationOutput(id, tokens, text, reason, error, prompt, queued, ttft, total, seed, model, metadata);
    }

    @Override
    public GenerationOutput createInstance() {
      return null;
    }

    @Override
    public TypeSerializerSnapshot<GenerationOutput> snapshotConfiguration() {
      return new Snapshot();
    }
  }

  /** Serializer snapshot (the format has one version). */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<GenerationOutput> {
    public Snapshot() {
      super(Serializer::new);
    }
  }
}
