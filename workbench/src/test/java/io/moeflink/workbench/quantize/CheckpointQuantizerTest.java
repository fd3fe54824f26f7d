package io.moeflink.workbench.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.checkpoint.Tensor;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.workbench.checkpoint.SafetensorsWriter;
import io.moeflink.workbench.fingerprint.LogitsFingerprintTest;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.ModelShape;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointQuantizerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;

  private static Path bf16;

  @BeforeAll
  static void generateModel() throws IOException {
    ModelShape shape = ModelPreset.TINY.shape().toBuilder().vocabSize(600).build();
    bf16 = ModelGenerator.builder(shape).format(WeightFormat.BF16).seed(4).build().writeTo(tmp.resolve("bf16")).directory();
    Files.writeString(bf16.resolve("generation_config.json"), "{\"bos_token_id\": 0}");
  }

  private static Path quantize(Path in, String name, IntQuantization q) throws IOException {
    AtomicLong progress = new AtomicLong();
    CheckpointQuantizer.Result result = new CheckpointQuantizer(q, 2).quantize(in, tmp.resolve(name), progress::set);
    assertThat(progress.get()).isEqualTo(result.bytesIn());
    return result.directory();
  }

  @Test
  void writesEveryProjectionAsIntegersAndCopiesTheRest() throws IOException {
    Path int4 = quantize(bf16, "layout-int4", IntQuantization.INT4);
    ModelConfig config = ModelConfig.load(bf16);
    List<String> projections = TensorNames.projections(config);
    try (Checkpoint in = Checkpoint.open(bf16); Checkpoint out = Checkpoint.open(int4)) {
      for (String p : projections) {
        assertThat(out.contains(p)).as(p).isFalse();
        Tensor packed = out.tensor(p + "_packed");
        Tensor source = in.tensor(p);
        assertThat(packed.dtype()).isEqualTo(DType.I32);
        assertThat(packed.shape()).containsExactly(source.shape()[0], source.shape()[1] / 8);
        assertThat(out.tensor(p + "_scale").shape()).containsExactly(source.shape()[0], source.shape()[1] / 32);
        assertThat(out.contains(p + "_zero_point")).isFalse();
      }
      for (String name : in.tensorNames(Integer.MAX_VALUE)) {
        if (!projections.contains(name)) {
          assertThat(bytes(out.tensor(name))).as(name).isEqualTo(bytes(in.tensor(name)));
        }
      }
    }
    JsonNode q = JSON.readTree(int4.resolve("config.json").toFile()).path("quantization_config");
    assertThat(q.path("format").asText()).isEqualTo("pack-quantized");
    assertThat(q.path("config_groups").path("group_0").path("weights").path("group_size").asInt()).isEqualTo(32);
    assertThat(int4.resolve("generation_config.json")).hasSameTextualContentAs(bf16.resolve("generation_config.json"));
    assertThat(Files.size(shards(int4))).isLessThan(Files.size(shards(bf16)) * 6 / 10);
  }

  /**
   * The integer model's logits are, bit for bit, those of an F32 model holding its dequantized
   * weights: the kernels widen {@code (q - zero) * scale} once and then run the F32 order, on the
   * scalar and the vector backend alike.
   */
  @Test
  void integerLogitsAreTheLogitsOfTheDequantizedWeights() throws Exception {
    for (IntQuantization q : List.of(IntQuantization.INT8, new IntQuantization(4, 32, false))) {
      Path ints = quantize(bf16, "bits-" + q.bits() + "-" + q.symmetric(), q);
      Path f32 = dequantize(ints, tmp.resolve("f32-" + q.bits() + "-" + q.symmetric()));
      String scalar = LogitsFingerprintTest.fingerprint(ints, BackendKind.SCALAR, 1);
      assertThat(LogitsFingerprintTest.fingerprint(f32, BackendKind.SCALAR, 1)).as("%s scalar", q).isEqualTo(scalar);
      assertThat(LogitsFingerprintTest.fingerprint(ints, BackendKind.VECTOR, 3)).as("%s vector", q).isEqualTo(scalar);
      assertThat(scalar).isNotEqualTo(LogitsFingerprintTest.fingerprint(bf16, BackendKind.SCALAR, 1));
    }
  }

  /**
   * How far integer weights move the logits from BF16's, after prompts of 1 to 40 tokens: printed,
   * and bounded so that a broken scale or zero point shows.
   */
  @Test
  void integerLogitsStayCloseToBf16() throws Exception {
    Path fp8 = ModelGenerator.builder(ModelPreset.TINY.shape().toBuilder().vocabSize(600).build())
        .format(WeightFormat.FP8).seed(4).build().writeTo(tmp.resolve("fp8")).directory();
    List<float[]> reference = firstLogits(bf16);
    Map<String, Path> variants = new TreeMap<>();
    variants.put("fp8 (generated)", fp8);
    variants.put("int8 channel", quantize(bf16, "close-int8", IntQuantization.INT8));
    variants.put("int4 g32", quantize(bf16, "close-int4", IntQuantization.INT4));
    variants.put("int4 g32 asym", quantize(bf16, "close-int4a", new IntQuantization(4, 32, false)));
    variants.put("int4 g32 from fp8", quantize(fp8, "close-int4-fp8", IntQuantization.INT4));
    Map<String, double[]> error = new TreeMap<>();
    for (Map.Entry<String, Path> v : variants.entrySet()) {
      error.put(v.getKey(), compare(reference, firstLogits(v.getValue())));
      System.out.printf(Locale.ROOT, "logits vs bf16: %-18s relative L2 error %.4f, top-1 agreement %.2f%n",
          v.getKey(), error.get(v.getKey())[0], error.get(v.getKey())[1]);
    }
    // A random model amplifies any rounding through its layers (FP8 alone moves the logits by a
    // quarter), so the bounds are relative to FP8's: INT8 per channel is finer, INT4 coarser.
    double fp8Error = error.get("fp8 (generated)")[0];
    assertThat(error.get("int8 channel")[0]).isLessThan(fp8Error);
    for (String int4 : List.of("int4 g32", "int4 g32 asym", "int4 g32 from fp8")) {
      assertThat(error.get(int4)[0]).as(int4).isGreaterThan(error.get("int8 channel")[0]).isLessThan(2.5 * fp8Error);
    }
  }

  @Test
  void refusesACheckpointAlreadyInIntegers() throws IOException {
    Path int8 = quantize(bf16, "twice", IntQuantization.INT8);
    assertThatThrownBy(() -> quantize(int8, "thrice", IntQuantization.INT4))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("already stored as integers");
    assertThatThrownBy(() -> quantize(bf16, "g48", new IntQuantization(4, 48, true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a multiple of the group size 48");
  }

  /** {relative L2 error over all logits, share of prompts whose top token agrees}. */
  private static double[] compare(List<float[]> reference, List<float[]> other) {
    double diff = 0;
    double norm = 0;
    int agree = 0;
    for (int i = 0; i < reference.size(); i++) {
      float[] a = reference.get(i);
      float[] b = other.get(i);
      for (int j = 0; j < a.length; j++) {
        diff += (a[j] - b[j]) * (double) (a[j] - b[j]);
        norm += a[j] * (double) a[j];
      }
      agree += argmax(a) == argmax(b) ? 1 : 0;
    }
    return new double[] {Math.sqrt(diff / norm), agree / (double) reference.size()};
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  /** The logits after each of 24 prompts of 1 to 40 tokens. */
  private static List<float[]> firstLogits(Path dir) throws Exception {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int p = 0; p < 24; p++) {
      int[] tokens = new int[1 + (p * 7) % 40];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = (p * 131 + i * 17 + 3) % 600;
      }
      requests.add(new GenerationRequest("p" + p, tokens, SamplingParams.greedy(1)));
    }
    TreeMap<Integer, float[]> logits = new TreeMap<>();
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, 2); Model model = Model.load(dir, k)) {
      List<GenerationResult> results = new Generator(model, 1, new SchedulerLimits(4, 256), null)
          .generate(requests, r -> {}, (id, index, l) -> logits.put(Integer.parseInt(id.substring(1)), l.clone()));
      assertThat(results).hasSize(24);
    }
    return new ArrayList<>(logits.values());
  }

  /** Writes {@code ints} with each packed projection replaced by an F32 tensor of its weights. */
  private static Path dequantize(Path ints, Path out) throws IOException {
    Files.createDirectories(out);
    try (Checkpoint in = Checkpoint.open(ints)) {
      List<SafetensorsWriter.Tensor> declared = new ArrayList<>();
      List<String> copied = new ArrayList<>();
      List<String> projections = new ArrayList<>();
      for (String name : in.tensorNames(Integer.MAX_VALUE)) {
        if (name.endsWith("_packed")) {
          String p = name.substring(0, name.length() - "_packed".length());
          long[] shape = {in.tensor(p + "_shape").getLong(0), in.tensor(p + "_shape").getLong(1)};
          declared.add(SafetensorsWriter.Tensor.of(p, DType.F32, shape));
          projections.add(p);
        } else if (!name.endsWith("_scale") && !name.endsWith("_shape") && !name.endsWith("_zero_point")) {
          declared.add(SafetensorsWriter.Tensor.of(name, in.tensor(name).dtype(), in.tensor(name).shape()));
          copied.add(name);
        }
      }
      try (SafetensorsWriter w = SafetensorsWriter.create(out.resolve("model.safetensors"), declared)) {
        for (String p : projections) {
          long[] shape = {in.tensor(p + "_shape").getLong(0), in.tensor(p + "_shape").getLong(1)};
          WeightMatrix m = WeightMatrix.load(in, p, (int) shape[0], (int) shape[1]);
          ByteBuffer f = ByteBuffer.allocate((int) (shape[0] * shape[1] * 4)).order(ByteOrder.LITTLE_ENDIAN);
          for (int r = 0; r < shape[0]; r++) {
            for (int c = 0; c < shape[1]; c++) {
              f.putFloat(m.get(r, c));
            }
          }
          w.write(p, f.flip());
        }
        for (String name : copied) {
          w.write(name, ByteBuffer.wrap(bytes(in.tensor(name))));
        }
      }
    }
    JsonNode config = JSON.readTree(ints.resolve("config.json").toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) config).remove("quantization_config");
    JSON.writeValue(out.resolve("config.json").toFile(), config);
    return out;
  }

  private static byte[] bytes(Tensor t) {
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(t.info().end() - t.info().begin()));
    t.read(0, b);
    return b.array();
  }

  /** The single shard of a tiny model. */
  private static Path shards(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".safetensors")).findFirst().orElseThrow();
    }
  }
}
