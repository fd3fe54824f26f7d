package io.moeflink.operators;

import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.StructuredOutput;
import io.moeflink.operators.loop.CodecSerializer;
import io.moeflink.operators.loop.CodecTypeInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * An admitted request on its way to a generation subtask: tokenized, validated, with everything
 * the completion must carry back.
 *
 * @param id the request id
 * @param promptTokens the tokenized prompt
 * @param sampling sampling and stop settings (validated)
 * @param model the model name to report, or null
 * @param metadata passed through to the completion untouched
 * @param admittedAtMillis wall-clock time of admission, for the completion's timings
 * @param priority higher gets a sequence slot first (the request's {@code priority})
 * @param tenant who asked, for slot shares and metrics; null for nobody in particular
 * @param responseFormat the request's structured output as JSON text (checked at admission), or null
 */
public record GenerationTask(
    String id, int[] promptTokens, SamplingParams sampling, String model, Map<String, String> metadata,
    long admittedAtMillis, int priority, String tenant, String responseFormat) {

  public static final TypeInformation<GenerationTask> TYPE = new CodecTypeInfo<>(GenerationTask.class, Serializer::new);

  public GenerationTask {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** A free-text task of priority 0 and no tenant. */
  public GenerationTask(
      String id, int[] promptTokens, SamplingParams sampling, String model, Map<String, String> metadata,
      long admittedAtMillis) {
    this(id, promptTokens, sampling, model, metadata, admittedAtMillis, 0, null, null);
  }

  /** A free-text task. */
  public GenerationTask(
      String id, int[] promptTokens, SamplingParams sampling, String model, Map<String, String> metadata,
      long admittedAtMillis, int priority, String tenant) {
    this(id, promptTokens, sampling, model, metadata, admittedAtMillis, priority, tenant, null);
  }

  /** The engine's view of a free-text task. */
  public GenerationRequest toRequest() {
    if (responseFormat != null) {
      throw new IllegalStateException("Task " + id + " has a response_format: use toRequest(StructuredOutput)");
    }
    return new GenerationRequest(id, promptTokens, sampling);
  }

  /** The engine's view of this task, its response format compiled by (or taken from) {@code structured}. */
  public GenerationRequest toRequest(StructuredOutput structured) {
    return new GenerationRequest(id, promptTokens, sampling, structured.constraint(responseFormat));
  }

  /** Field by field. */
  public static final class Serializer extends CodecSerializer<GenerationTask> {
    private static final long serialVersionUID = 1L;

    @Override
    protected void write(GenerationTask t, DataOutputView out) throws IOException {
      out.writeUTF(t.id);
      writeInts(t.promptTokens, out);
      SamplingParams s = t.sampling;
      out.writeDouble(s.temperature());
      out.writeInt(s.topK());
      out.writeDouble(s.topP());
      out.writeLong(s.seed());
      out.writeInt(s.maxTokens());
      writeInts(s.stopTokenIds().stream().mapToInt(Integer::intValue).sorted().toArray(), out);
      out.writeInt(s.stopStrings().size());
      for (String stop : s.stopStrings()) {
        out.writeUTF(stop);
      }
      writeNullableString(t.model, out);
      out.writeInt(t.metadata.size());
      for (Map.Entry<String, String> e : new java.util.TreeMap<>(t.metadata).entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
      out.writeLong(t.admittedAtMillis);
      out.writeInt(t.priority);
      writeNullableString(t.tenant, out);
      writeNullableString(t.responseFormat, out);
    }

    @Override
    protected GenerationTask read(DataInputView in) throws IOException {
      String id = in.readUTF();
      int[] prompt = readInts(in);
      double temperature = in.readDouble();
      int topK = in.readInt();
      double topP = in.readDouble();
      long seed = in.readLong();
      int maxTokens = in.readInt();
      Set<Integer> stopIds = new HashSet<>();
      for (int id2 : readInts(in)) {
        stopIds.add(id2);
      }
      int stops = in.readInt();
      List<String> stopStrings = new ArrayList<>(stops);
      for (int i = 0; i < stops; i++) {
        stopStrings.add(in.readUTF());
      }
      String model = readNullableString(in);
      int n = in.readInt();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        metadata.put(in.readUTF(), in.readUTF());
      }
      long admitted = in.readLong();
      int priority = in.readInt();
      String tenant = readNullableString(in);
      String responseFormat = readNullableString(in);
      return new GenerationTask(id, prompt,
          new SamplingParams(temperature, topK, topP, seed, maxTokens, stopIds, stopStrings), model, metadata, admitted,
          priority, tenant, responseFormat);
    }

    @Override
    public GenerationTask createInstance() {
      return null;
    }

    @Override
    public TypeSerializerSnapshot<GenerationTask> snapshotConfiguration() {
      return new Snapshot();
    }
  }

  /** Serializer snapshot (the format has one version). */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<GenerationTask> {
    public Snapshot() {
      super(Serializer::new);
    }
  }
}
