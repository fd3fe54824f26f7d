package io.moeflink.workbench.fingerprint;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.ModelShape;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The engine's logits, bit for bit, on models of every shape the golden and held-out sets cover:
 * SHA-256 fingerprints of every logit of three requests (greedy and sampled, prefill chunked by a
 * small token budget, decode batched with another sequence), with 1 and 3 expert shards. The
 * scalar backend's fingerprints are pure Java arithmetic, the same on every x86-64 JVM: they are
 * asserted against {@code fingerprints.txt}, which a change of the kernels' summation order must
 * update on purpose. The Vector API backend's depend on the vector width and are printed, so that
 * a change can be compared before and after on one machine.
 */
class LogitsFingerprintTest {
  static List<GenerationRequest> requests() {
    int[] a = {0, 17, 244, 3, 98, 311, 7, 45, 200, 12, 9};
    int[] b = new int[40];
    for (int i = 0; i < b.length; i++) {
      b[i] = (i * 37 + 11) % 500;
    }
    int[] c = {0, 5, 6};
    return List.of(
        new GenerationRequest("a", a, SamplingParams.greedy(6)),
        new GenerationRequest("b", b, new SamplingParams(0.8, 40, 0.9, 7, 6, Set.of(), List.of())),
        new GenerationRequest("c", c, SamplingParams.greedy(5)));
  }

  /** The first 16 hex digits of the SHA-256 over every logit bit, in request and step order. */
  static String fingerprint(Path dir, BackendKind backend, int shards) throws Exception {
    try (KernelBackend k = Backends.cpu(backend, 2); Model model = Model.load(dir, k)) {
      Generator g = new Generator(model, shards, new SchedulerLimits(2, 16), null);
      TreeMap<String, byte[]> bits = new TreeMap<>();
      g.generate(requests(), r -> {}, (id, index, logits) -> {
        ByteBuffer buf = ByteBuffer.allocate(logits.length * 4);
        for (float f : logits) {
          buf.putInt(Float.floatToRawIntBits(f));
        }
        bits.put(id + "/" + String.format("%03d", index), buf.array());
      });
      MessageDigest all = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, byte[]> e : bits.entrySet()) {
        all.update(e.getKey().getBytes(StandardCharsets.UTF_8));
        all.update(e.getValue());
      }
      return HexFormat.of().formatHex(all.digest()).substring(0, 16);
    }
  }

  static Path generated(String name, ModelShape shape, WeightFormat format) throws IOException {
    Path dir = Path.of("target/fingerprint-models", name);
    if (!Files.exists(dir.resolve("config.json"))) {
      ModelGenerator.builder(shape).format(format).seed(11).build().writeTo(dir);
    }
    return dir;
  }

  static Map<String, Path> models() throws IOException {
    ModelShape base = ModelPreset.TINY.shape().toBuilder().vocabSize(600).build();
    ModelShape qProj = base.toBuilder().qLoraRank(0).nSharedExperts(2).nGroup(2).topkGroup(1)
        .ropeScaling(null).ropeTheta(50000).numHiddenLayers(5).firstKDenseReplace(2).build();
    Map<String, Path> models = new LinkedHashMap<>();
    models.put("golden-bf16", Path.of("../engine/src/test/resources/golden/tiny-v3/bf16"));
    models.put("golden-fp8", Path.of("../engine/src/test/resources/golden/tiny-v3/fp8"));
    models.put("base-bf16", generated("base-bf16", base, WeightFormat.BF16));
    models.put("qproj-bf16", generated("qproj-bf16", qProj, WeightFormat.BF16));
    models.put("base-fp8", generated("base-fp8", base, WeightFormat.FP8));
    return models;
  }

  /** {@code model -> fingerprint} from the committed file. */
  static Map<String, String> expected() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (InputStream in = LogitsFingerprintTest.class.getResourceAsStream("fingerprints.txt")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          String[] parts = line.trim().split("\\s+");
          out.put(parts[0], parts[1]);
        }
      }
    }
    return out;
  }

  @Test
  void scalarLogitsAreTheCommittedBitsWhateverTheSharding() throws Exception {
    Map<String, String> expected = expected();
    for (Map.Entry<String, Path> m : models().entrySet()) {
      String one = fingerprint(m.getValue(), BackendKind.SCALAR, 1);
      assertThat(fingerprint(m.getValue(), BackendKind.SCALAR, 3)).as("%s scalar, 3 shards vs 1", m.getKey()).isEqualTo(one);
      assertThat(one).as("%s scalar fingerprint (fingerprints.txt)", m.getKey()).isEqualTo(expected.get(m.getKey()));
    }
  }

  @Test
  void vectorLogitsAreTheScalarBits() throws Exception {
    Map<String, String> expected = expected();
    for (Map.Entry<String, Path> m : models().entrySet()) {
      assertThat(fingerprint(m.getValue(), BackendKind.VECTOR, 3))
          .as("%s vector (%s), 3 shards", m.getKey(), vectorName()).isEqualTo(expected.get(m.getKey()));
    }
  }

  /**
   * The 256-bit kernels (AVX2's) in a JVM limited to 256-bit vectors ({@code -XX:MaxVectorSize=32})
   * give the committed bits too, so a sequence may move between AVX2 and AVX-512 TaskManagers.
   */
  @Test
  void vectorLogitsOn256BitVectorsAreTheSameBits() throws Exception {
    models(); // generate them here, not in the child
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
        "-XX:MaxVectorSize=32", "-cp", System.getProperty("java.class.path"), LogitsFingerprintTest.class.getName())
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isZero();
    Map<String, String> expected = expected();
    assertThat(output).as(output).contains("vector(256 bit)");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertThat(output).as("%s on 256-bit vectors", e.getKey()).contains("FINGERPRINT " + e.getKey() + " " + e.getValue());
    }
  }

  private static String vectorName() {
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, 1)) {
      return k.name();
    }
  }

  /**
   * Prints the fingerprints of the vector backend (or of the backend named by the first argument):
   * the child JVM of the 256-bit test, and how fingerprints.txt is remade after a deliberate change.
   */
  public static void main(String[] args) throws Exception {
    BackendKind kind = args.length > 0 ? BackendKind.parse(args[0]) : BackendKind.VECTOR;
    System.out.println(kind == BackendKind.VECTOR ? vectorName() : kind.toString());
    for (Map.Entry<String, Path> m : models().entrySet()) {
      System.out.println("FINGERPRINT " + m.getKey() + " " + fingerprint(m.getValue(), kind, 1));
    }
  }
}
