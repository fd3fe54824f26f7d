package io.moeflink.workbench.families;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.config.ModelFamily;
import io.moeflink.engine.generate.BatchScheduler;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.Routing;
import io.moeflink.engine.model.SequenceChunk;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.moe.MoeDispatch;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.workbench.modelgen.CheckpointFamily;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.ModelShape;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each checkpoint family as {@code make-model --family} writes it loads as itself, with its own
 * tensor inventory, and the engine agrees with an independent float64 forward pass ({@link
 * Float64Reference}, DeepSeek's reference math) within 1e-4 on every logit of a prefill and four
 * greedy decode steps, with the same experts for every token of every MoE layer.
 */
class FamilyCheckpointTest {
  private static final double LOGIT_TOLERANCE = 1e-4;
  private static final double ROUTING_WEIGHT_TOLERANCE = 1e-5;
  private static final int[] PROMPT = {0, 17, 244, 3, 98, 311, 7, 45, 200, 12, 9};
  private static final int DECODE_STEPS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> families() {
    return Stream.of(
        Arguments.of(CheckpointFamily.V3, ModelFamily.DEEPSEEK_V3),
        Arguments.of(CheckpointFamily.V3_1, ModelFamily.DEEPSEEK_V3_1),
        Arguments.of(CheckpointFamily.V3_2_EXP, ModelFamily.DEEPSEEK_V3_2_EXP),
        Arguments.of(CheckpointFamily.KIMI_K2, ModelFamily.KIMI_K2),
        Arguments.of(CheckpointFamily.MOONLIGHT, ModelFamily.MOONLIGHT),
        Arguments.of(CheckpointFamily.V2, ModelFamily.DEEPSEEK_V2),
        Arguments.of(CheckpointFamily.V2_LITE, ModelFamily.DEEPSEEK_V2_LITE));
  }

  static Path generated(CheckpointFamily family) throws IOException {
    Path dir = Path.of("target/family-models", family.toString());
    if (!Files.exists(dir.resolve("config.json"))) {
      ModelShape base = ModelPreset.TINY.shape().toBuilder().vocabSize(600).build();
      WeightFormat format = family.ue8m0Scales() ? WeightFormat.FP8 : WeightFormat.BF16;
      ModelGenerator.builder(family.adapt(base)).family(family).format(format).seed(5).build().writeTo(dir);
    }
    return dir;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("families")
  void agreesWithTheFloat64ReferenceAndRoutesTheSameExperts(CheckpointFamily family, ModelFamily expected)
      throws Exception {
    Path dir = generated(family);
    Float64Reference reference = new Float64Reference(dir);
    try (KernelBackend k = Backends.cpu(BackendKind.SCALAR, 2); Model model = Model.load(dir, k)) {
      assertThat(model.config().family()).isEqualTo(expected);
      ExpertPlacement placement = ExpertPlacement.balanced(model.config(), 2);
      List<ExpertShard> shards = new ArrayList<>();
      for (int s = 0; s < 2; s++) {
        shards.add(ExpertShard.load(model.checkpoint(), model.config(), placement, s));
      }
      LocalExchange exchange = new LocalExchange(shards);
      ForwardPass pass = new ForwardPass(model, placement, List.of(new SequenceChunk(model.newCache(), PROMPT, true)));
      Map<Integer, Routing> routing = new HashMap<>();
      MoeDispatch d;
      while ((d = pass.advance()) != null) {
        routing.put(d.layer(), pass.routingInFlight());
        for (int s = 0; s < d.batches().length; s++) {
          if (d.batches()[s] != null) {
            pass.accept(s, exchange.shards().get(s).compute(k, d.batches()[s]));
          }
        }
      }
      double worst = maxDiff(pass.logits(0), reference.forward(PROMPT));
      assertThat(reference.routes).isNotEmpty().hasSameSizeAs(routing);
      reference.routes.forEach((layer, tokens) -> {
        for (int t = 0; t < tokens.size(); t++) {
          Map<Integer, Double> mine = new TreeMap<>();
          Routing r = routing.get(layer);
          for (int j = 0; j < r.k(); j++) {
            mine.put(r.experts()[t * r.k() + j], (double) r.weights()[t * r.k() + j]);
          }
          String what = family + " layer " + layer + " token " + t;
          assertThat(mine.keySet()).as(what).isEqualTo(tokens.get(t).keySet());
          tokens.get(t).forEach((e, weight) -> assertThat(mine.get(e)).as(what + " expert " + e)
              .isCloseTo(weight, org.assertj.core.data.Offset.offset(ROUTING_WEIGHT_TOLERANCE)));
        }
      });

      List<float[]> steps = new ArrayList<>();
      int[] generated = new Generator(model, 2, SchedulerLimits.DEFAULT, null)
          .generate(List.of(new GenerationRequest("a", PROMPT, SamplingParams.greedy(DECODE_STEPS + 1))), r -> {},
              (id, index, logits) -> steps.add(logits))
          .get(0).tokens();
      for (int i = 1; i <= DECODE_STEPS; i++) {
        int[] sequence = java.util.Arrays.copyOf(PROMPT, PROMPT.length + i);
        System.arraycopy(generated, 0, sequence, PROMPT.length, i);
        double[] expectedLogits = reference.forward(sequence);
        worst = Math.max(worst, maxDiff(steps.get(i), expectedLogits));
        assertThat(generated[i]).as(family + " greedy token " + i).isEqualTo(argmax(expectedLogits));
      }
      System.out.printf("%s: max |logit - float64 reference| = %.3g over prefill and %d decode steps%n",
          family, worst, DECODE_STEPS);
      assertThat(worst).as(family + " max |dlogit|").isLessThanOrEqualTo(LOGIT_TOLERANCE);
    }
  }

  @Test
  void eachFamilyStoresItsOwnTensorInventory() throws Exception {
    assertThat(names(CheckpointFamily.V2_LITE)).noneMatch(n -> n.contains("e_score_correction_bias"))
        .contains("model.layers.1.mlp.gate.weight", "model.layers.0.self_attn.q_proj.weight")
        .noneMatch(n -> n.contains("q_a_proj"));
    assertThat(names(CheckpointFamily.V2)).noneMatch(n -> n.contains("e_score_correction_bias"))
        .contains("model.layers.0.self_attn.q_a_proj.weight");
    assertThat(names(CheckpointFamily.MOONLIGHT)).contains("model.layers.1.mlp.gate.e_score_correction_bias",
        "model.layers.0.self_attn.q_proj.weight");
    assertThat(names(CheckpointFamily.V3_2_EXP)).contains(
        "model.layers.2.self_attn.indexer.wq_b.weight", "model.layers.2.self_attn.indexer.wk.weight",
        "model.layers.2.self_attn.indexer.k_norm.weight", "model.layers.2.self_attn.indexer.k_norm.bias",
        "model.layers.2.self_attn.indexer.weights_proj.weight");
    assertThat(names(CheckpointFamily.V3)).noneMatch(n -> n.contains("indexer"));

    JsonNode v2 = config(CheckpointFamily.V2_LITE);
    assertThat(v2.get("model_type").asText()).isEqualTo("deepseek_v2");
    assertThat(v2.get("scoring_func").asText()).isEqualTo("softmax");
    assertThat(v2.get("topk_method").asText()).isEqualTo("greedy");
    assertThat(v2.get("norm_topk_prob").asBoolean()).isFalse();
    assertThat(v2.get("rope_scaling").get("mscale_all_dim").asDouble()).isEqualTo(0.707);
    JsonNode k2 = config(CheckpointFamily.KIMI_K2);
    assertThat(k2.get("model_type").asText()).isEqualTo("kimi_k2");
    assertThat(k2.get("n_group").asInt()).isOne();
    assertThat(k2.get("rope_theta").asDouble()).isEqualTo(50000);
    JsonNode moonlight = config(CheckpointFamily.MOONLIGHT);
    assertThat(moonlight.get("q_lora_rank").isNull()).isTrue();
    assertThat(moonlight.get("n_shared_experts").asInt()).isEqualTo(2);
    JsonNode v32 = config(CheckpointFamily.V3_2_EXP);
    assertThat(v32.get("architectures").get(0).asText()).isEqualTo("DeepseekV32ForCausalLM");
    assertThat(v32.get("index_topk").asInt()).isEqualTo(2048);
  }

  /**
   * V3.1's {@code scale_fmt: ue8m0} changes nothing in how weights are read: each stored scale is a
   * power of two, and the float32 product {@code e4m3(code) * scale} is then exact (equal to the
   * float64 product), so the engine's multiply-by-scale dequantization is already right.
   */
  @Test
  void v31ScalesArePowersOfTwoSoItsFp8ProductsAreExact() throws Exception {
    Path dir = generated(CheckpointFamily.V3_1);
    assertThat(config(CheckpointFamily.V3_1).get("quantization_config").get("scale_fmt").asText()).isEqualTo("ue8m0");
    int scales = 0;
    for (String name : names(CheckpointFamily.V3_1)) {
      if (name.endsWith("_scale_inv")) {
        for (float s : Float64Reference.f32(dir, name)) {
          assertThat(Math.scalb(1f, Math.getExponent(s))).as(name).isEqualTo(s);
          for (int code = 0; code < 0x7f; code++) { // every finite E4M3 magnitude
            float v = io.moeflink.engine.checkpoint.Fp8E4M3.decode((byte) code);
            assertThat((double) (v * s)).isEqualTo((double) v * s);
          }
          scales++;
        }
      }
    }
    assertThat(scales).isGreaterThan(100);
  }

  @Test
  void aV32CheckpointWithoutItsIndexerDoesNotLoad() throws Exception {
    Path dir = Path.of("target/family-models/v3.2-no-indexer");
    copyWithout(generated(CheckpointFamily.V3_2_EXP), dir, "model.layers.1.self_attn.indexer.k_norm.bias");
    try (KernelBackend k = Backends.cpu(BackendKind.SCALAR, 1)) {
      assertThatThrownBy(() -> Model.load(dir, k)).isInstanceOf(CheckpointException.class)
          .hasMessageContaining("model.layers.1.self_attn.indexer.k_norm.bias");
    }
  }

  @Test
  void v32RefusesARequestLongerThanIndexTopk() throws Exception {
    try (KernelBackend k = Backends.cpu(BackendKind.SCALAR, 1);
        Model model = Model.load(generated(CheckpointFamily.V3_2_EXP), k)) {
      BatchScheduler scheduler = new BatchScheduler(model, ExpertPlacement.balanced(model.config(), 1),
          SchedulerLimits.DEFAULT, null);
      assertThatThrownBy(() -> scheduler.admit(new GenerationRequest("long", new int[2040], SamplingParams.greedy(9)), 0))
          .hasMessageContaining("exceeds DeepSeek-V3.2-Exp's index_topk of 2048");
      // at index_topk exactly, every position is kept: dense MLA, accepted
      scheduler.admit(new GenerationRequest("fits", new int[2040], SamplingParams.greedy(8)), 0);
    }
  }

  private static TreeSet<String> names(CheckpointFamily family) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    JSON.readTree(generated(family).resolve("model.safetensors.index.json").toFile()).get("weight_map")
        .fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static JsonNode config(CheckpointFamily family) throws IOException {
    return JSON.readTree(generated(family).resolve("config.json").toFile());
  }

  /** Copies the checkpoint with {@code tensor} left out of the index (its bytes stay in the shard). */
  private static void copyWithout(Path from, Path to, String tensor) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Iterator<Path> it = files.iterator(); it.hasNext(); ) {
        Path f = it.next();
        Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path index = to.resolve("model.safetensors.index.json");
    com.fasterxml.jackson.databind.node.ObjectNode json = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(
        index.toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("weight_map")).remove(tensor);
    Files.writeString(index, json.toString());
  }

  private static double maxDiff(float[] engine, double[] reference) {
    assertThat(engine).hasSize(reference.length);
    double worst = 0;
    for (int i = 0; i < engine.length; i++) {
      worst = Math.max(worst, Math.abs(engine[i] - reference[i]));
    }
    return worst;
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
