package io.moeflink.workbench.modelgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelGeneratorTest {

  @TempDir Path tmp;

  /** Small enough for many runs, with dims that are not multiples of 128. */
  private static final ModelShape ODD_SHAPE =
      ModelShape.builder()
          .vocabSize(300)
          .hiddenSize(200)
          .intermediateSize(300)
          .moeIntermediateSize(136)
          .numHiddenLayers(3)
          .firstKDenseReplace(1)
          .numAttentionHeads(3)
          .qLoraRank(0)
          .kvLoraRank(40)
          .qkNopeHeadDim(24)
          .qkRopeHeadDim(8)
          .vHeadDim(20)
          .nRoutedExperts(12)
          .nSharedExperts(2)
          .numExpertsPerTok(3)
          .nGroup(3)
          .topkGroup(2)
          .ropeTheta(50000)
          .ropeScaling(new ModelShape.Yarn(8, 512, 16, 2, 0.707, 0.707))
          .build();

  private record Expected(String dtype, List<Long> shape) {}

  /**
   * The tensors a checkpoint must hold, written out from the golden README's list rather than from
   * the generator's plan.
   */
  private static Map<String, Expected> expectedTensors(ModelShape s, WeightFormat format) {
    Map<String, Expected> expected = new LinkedHashMap<>();
    long d = s.hiddenSize();
    long h = s.numAttentionHeads();
    java.util.function.BiConsumer<String, long[]> projection =
        (name, shape) -> {
          if (format == WeightFormat.FP8) {
            expected.put(name, new Expected("F8_E4M3", List.of(shape[0], shape[1])));
            expected.put(
                name + "_scale_inv",
                new Expected("F32", List.of((shape[0] + 127) / 128, (shape[1] + 127) / 128)));
          } else {
            expected.put(name, new Expected("BF16", List.of(shape[0], shape[1])));
          }
        };
    expected.put(
        "model.embed_tokens.weight", new Expected("BF16", List.of((long) s.vocabSize(), d)));
    for (int i = 0; i < s.numHiddenLayers(); i++) {
      String p = "model.layers." + i + ".";
      expected.put(p + "input_layernorm.weight", new Expected("BF16", List.of(d)));
      expected.put(p + "post_attention_layernorm.weight", new Expected("BF16", List.of(d)));
      long qOut = h * (s.qkNopeHeadDim() + s.qkRopeHeadDim());
      if (s.qLoraRank() > 0) {
        projection.accept(p + "self_attn.q_a_proj.weight", new long[] {s.qLoraRank(), d});
        expected.put(
            p + "self_attn.q_a_layernorm.weight",
            new Expected("BF16", List.of((long) s.qLoraRank())));
        projection.accept(p + "self_attn.q_b_proj.weight", new long[] {qOut, s.qLoraRank()});
      } else {
        projection.accept(p + "self_attn.q_proj.weight", new long[] {qOut, d});
      }
      projection.accept(
          p + "self_attn.kv_a_proj_with_mqa.weight",
          new long[] {s.kvLoraRank() + s.qkRopeHeadDim(), d});
      expected.put(
          p + "self_attn.kv_a_layernorm.weight",
          new Expected("BF16", List.of((long) s.kvLoraRank())));
      projection.accept(
          p + "self_attn.kv_b_proj.weight",
          new long[] {h * (s.qkNopeHeadDim() + s.vHeadDim()), s.kvLoraRank()});
      projection.accept(p + "self_attn.o_proj.weight", new long[] {d, h * s.vHeadDim()});
      if (i < s.firstKDenseReplace()) {
        long inter = s.intermediateSize();
        projection.accept(p + "mlp.gate_proj.weight", new long[] {inter, d});
        projection.accept(p + "mlp.up_proj.weight", new long[] {inter, d});
        projection.accept(p + "mlp.down_proj.weight", new long[] {d, inter});
      } else {
        long e = s.nRoutedExperts();
        expected.put(p + "mlp.gate.weight", new Expected("BF16", List.of(e, d)));
        expected.put(p + "mlp.gate.e_score_correction_bias", new Expected("F32", List.of(e)));
        long im = s.moeIntermediateSize();
        for (int x = 0; x < e; x++) {
          projection.accept(p + "mlp.experts." + x + ".gate_proj.weight", new long[] {im, d});
          projection.accept(p + "mlp.experts." + x + ".up_proj.weight", new long[] {im, d});
          projection.accept(p + "mlp.experts." + x + ".down_proj.weight", new long[] {d, im});
        }
        long shared = im * s.nSharedExperts();
        projection.accept(p + "mlp.shared_experts.gate_proj.weight", new long[] {shared, d});
        projection.accept(p + "mlp.shared_experts.up_proj.weight", new long[] {shared, d});
        projection.accept(p + "mlp.shared_experts.down_proj.weight", new long[] {d, shared});
      }
    }
    expected.put("model.norm.weight", new Expected("BF16", List.of(d)));
    expected.put("lm_head.weight", new Expected("BF16", List.of((long) s.vocabSize(), d)));
    return expected;
  }

  private static Map<String, Expected> stored(StoredCheckpoint checkpoint) {
    Map<String, Expected> stored = new LinkedHashMap<>();
    checkpoint.tensors.forEach((name, e) -> stored.put(name, new Expected(e.dtype(), e.shape())));
    return stored;
  }

  private GeneratedModel generate(ModelShape shape, WeightFormat format, long seed, String dir)
      throws IOException {
    return ModelGenerator.builder(shape)
        .format(format)
        .seed(seed)
        .build()
        .writeTo(tmp.resolve(dir));
  }

  @ParameterizedTest
  @EnumSource(WeightFormat.class)
  void writesEveryTinyTensorOnceWithTheTokenizer(WeightFormat format) throws IOException {
    ModelShape tiny = ModelPreset.TINY.shape();
    GeneratedModel model = generate(tiny, format, 1, "tiny-" + format);
    StoredCheckpoint checkpoint = StoredCheckpoint.read(model.directory());

    assertThat(stored(checkpoint))
        .containsExactlyInAnyOrderEntriesOf(expectedTensors(tiny, format));
    assertThat(model.parameters()).isEqualTo(tiny.parameterCount());
    assertThat(model.tensors()).isEqualTo(checkpoint.tensors.size());
    assertThat(Files.readString(model.directory().resolve("tokenizer.json"))).startsWith("{");
    assertThat(model.directory().resolve("tokenizer_config.json")).isNotEmptyFile();
    assertThat(model.bytesWritten())
        .isEqualTo(sizeOfFiles(model.directory()))
        .isGreaterThan(model.tensorBytes());
    JsonNode quantization = checkpoint.config.path("quantization_config");
    if (format == WeightFormat.FP8) {
      assertThat(quantization.path("quant_method").asText()).isEqualTo("fp8");
      assertThat(quantization.path("fmt").asText()).isEqualTo("e4m3");
      assertThat(quantization.path("weight_block_size").toString()).isEqualTo("[128,128]");
    } else {
      assertThat(quantization.isMissingNode()).isTrue();
    }
  }

  @Test
  void writesTheQProjPathWithSeveralSharedExpertsAndPartialScaleBlocks() throws IOException {
    GeneratedModel model = generate(ODD_SHAPE, WeightFormat.FP8, 3, "odd-fp8");
    StoredCheckpoint checkpoint = StoredCheckpoint.read(model.directory());

    assertThat(stored(checkpoint))
        .containsExactlyInAnyOrderEntriesOf(expectedTensors(ODD_SHAPE, WeightFormat.FP8));
    // shared (272, 200) -> (3, 2) blocks; (200, 272) -> (2, 3); q_proj (3 * 32, 200) -> (1, 2)
    String layer = "model.layers.1.";
    assertThat(
            checkpoint.tensors.get(layer + "mlp.shared_experts.up_proj.weight_scale_inv").shape())
        .containsExactly(3L, 2L);
    assertThat(
            checkpoint.tensors.get(layer + "mlp.shared_experts.down_proj.weight_scale_inv").shape())
        .containsExactly(2L, 3L);
    assertThat(checkpoint.tensors.get(layer + "self_attn.q_proj.weight_scale_inv").shape())
        .containsExactly(1L, 2L);
    assertThat(checkpoint.tensors).doesNotContainKey(layer + "self_attn.q_a_layernorm.weight");
    assertThat(model.directory().resolve("tokenizer.json")).doesNotExist();

    JsonNode config = checkpoint.config;
    assertThat(config.path("q_lora_rank").isNull()).isTrue();
    assertThat(config.path("n_shared_experts").asInt()).isEqualTo(2);
    assertThat(config.path("rope_theta").asDouble()).isEqualTo(50000);
    JsonNode yarn = config.path("rope_scaling");
    assertThat(yarn.path("type").asText()).isEqualTo("yarn");
    assertThat(yarn.path("factor").asDouble()).isEqualTo(8);
    assertThat(yarn.path("original_max_position_embeddings").asInt()).isEqualTo(512);
    assertThat(yarn.path("beta_fast").isInt()).isTrue();
    assertThat(yarn.path("mscale_all_dim").asDouble()).isEqualTo(0.707);
  }

  @Test
  void writesEveryDeepseekV3ConfigKey() throws IOException {
    GeneratedModel model =
        generate(ODD_SHAPE.toBuilder().qLoraRank(24).build(), WeightFormat.BF16, 3, "cfg");
    JsonNode config = StoredCheckpoint.read(model.directory()).config;
    List<String> keys = new ArrayList<>();
    config.fieldNames().forEachRemaining(keys::add);
    assertThat(keys)
        .containsExactly(
            "architectures",
            "model_type",
            "attention_bias",
            "attention_dropout",
            "bos_token_id",
            "eos_token_id",
            "ep_size",
            "hidden_act",
            "initializer_range",
            "moe_layer_freq",
            "num_nextn_predict_layers",
            "pretraining_tp",
            "rms_norm_eps",
            "scoring_func",
            "topk_method",
            "norm_topk_prob",
            "seq_aux",
            "aux_loss_alpha",
            "tie_word_embeddings",
            "torch_dtype",
            "use_cache",
            "vocab_size",
            "hidden_size",
            "intermediate_size",
            "moe_intermediate_size",
            "num_hidden_layers",
            "first_k_dense_replace",
            "num_attention_heads",
            "num_key_value_heads",
            "n_shared_experts",
            "n_routed_experts",
            "num_experts_per_tok",
            "n_group",
            "topk_group",
            "routed_scaling_factor",
            "q_lora_rank",
            "kv_lora_rank",
            "qk_nope_head_dim",
            "qk_rope_head_dim",
            "v_head_dim",
            "rope_theta",
            "max_position_embeddings",
            "rope_scaling");
    assertThat(config.path("model_type").asText()).isEqualTo("deepseek_v3");
    assertThat(config.path("topk_method").asText()).isEqualTo("noaux_tc");
    assertThat(config.path("scoring_func").asText()).isEqualTo("sigmoid");
    assertThat(config.path("norm_topk_prob").asBoolean()).isTrue();
    assertThat(config.path("bos_token_id").asInt()).isZero();
    assertThat(config.path("eos_token_id").asInt()).isEqualTo(1);
    assertThat(config.path("num_nextn_predict_layers").asInt()).isZero();
    assertThat(config.path("rms_norm_eps").asDouble()).isEqualTo(1e-6);
    assertThat(config.path("q_lora_rank").asInt()).isEqualTo(24);
    assertThat(config.path("rope_scaling").path("beta_slow").asInt()).isEqualTo(2);
  }

  @Test
  void indexMapsEveryTensorAndScaleToItsShardAndCountsDataBytes() throws IOException {
    GeneratedModel model =
        ModelGenerator.builder(ODD_SHAPE)
            .format(WeightFormat.FP8)
            .maxShardBytes(100_000)
            .build()
            .writeTo(tmp.resolve("sharded"));
    StoredCheckpoint checkpoint = StoredCheckpoint.read(model.directory());

    Map<String, String> weightMap = new HashMap<>();
    checkpoint
        .index
        .path("weight_map")
        .fields()
        .forEachRemaining(e -> weightMap.put(e.getKey(), e.getValue().asText()));
    Map<String, String> fileOfTensor = new HashMap<>();
    checkpoint.tensors.forEach((name, entry) -> fileOfTensor.put(name, entry.file()));
    assertThat(weightMap).isEqualTo(fileOfTensor);

    long shards = weightMap.values().stream().distinct().count();
    assertThat(shards).isGreaterThan(3);
    for (String file : new HashSet<>(weightMap.values())) {
      assertThat(file)
          .matches("model-\\d{5}-of-" + String.format("%05d", shards) + "\\.safetensors");
    }
    assertThat(checkpoint.index.path("metadata").path("total_size").asLong())
        .isEqualTo(checkpoint.dataBytes)
        .isEqualTo(model.tensorBytes());
    List<String> names = new ArrayList<>();
    checkpoint.index.path("weight_map").fieldNames().forEachRemaining(names::add);
    assertThat(names).isSorted();
  }

  @Test
  void sameSeedGivesByteIdenticalFilesWhateverTheThreadCount() throws IOException {
    GeneratedModel one = generateOddFp8(5, 1, "one");
    GeneratedModel three = generateOddFp8(5, 3, "three");
    GeneratedModel other = generateOddFp8(6, 2, "other");

    assertThat(one.files()).hasSameSizeAs(three.files());
    for (Path file : one.files()) {
      Path twin = three.directory().resolve(file.getFileName());
      assertThat(Files.readAllBytes(twin))
          .as("%s", file.getFileName())
          .isEqualTo(Files.readAllBytes(file));
    }
    Path shard = one.files().get(0).getFileName();
    assertThat(Files.readAllBytes(other.directory().resolve(shard)))
        .isNotEqualTo(Files.readAllBytes(one.directory().resolve(shard)));
  }

  @Test
  void bf16AndFp8OfOneSeedHoldTheSameMasterWeights() throws IOException {
    StoredCheckpoint bf16 =
        StoredCheckpoint.read(generate(ODD_SHAPE, WeightFormat.BF16, 9, "b").directory());
    StoredCheckpoint fp8 =
        StoredCheckpoint.read(generate(ODD_SHAPE, WeightFormat.FP8, 9, "f").directory());
    String name = "model.layers.2.mlp.experts.5.down_proj.weight";
    float[] fromBf16 = bf16.floats(name);
    float[] fromFp8 = fp8.floats(name);
    float[] scales = fp8.floats(name + "_scale_inv");
    float maxScale = 0;
    for (float scale : scales) {
      maxScale = Math.max(maxScale, scale);
    }
    for (int i = 0; i < fromBf16.length; i++) {
      // Both round the same float32 value: BF16 by 2^-9 relative, E4M3 by 2^-4 (or 2^-10 scale).
      double bound = Math.abs(fromBf16[i]) * (0x1p-4 + 0x1p-8) + maxScale * 0x1p-10;
      assertThat(Math.abs((double) fromFp8[i] - fromBf16[i]))
          .as("element %d", i)
          .isLessThanOrEqualTo(bound);
    }
    assertThat(bf16.floats("lm_head.weight")).isEqualTo(fp8.floats("lm_head.weight"));
  }

  @Test
  void drawsWeightsAtScalesThatKeepActivationsSane() throws IOException {
    StoredCheckpoint checkpoint =
        StoredCheckpoint.read(generate(ODD_SHAPE, WeightFormat.BF16, 2, "scales").directory());
    assertThat(rms(checkpoint.floats("model.embed_tokens.weight"))).isBetween(0.9, 1.1);
    assertThat(rms(checkpoint.floats("model.layers.1.self_attn.q_proj.weight")))
        .isBetween(0.9 / Math.sqrt(200), 1.1 / Math.sqrt(200));
    assertThat(rms(checkpoint.floats("model.layers.1.mlp.experts.0.down_proj.weight")))
        .isBetween(0.9 / Math.sqrt(136), 1.1 / Math.sqrt(136));
    float[] norm = checkpoint.floats("model.layers.2.input_layernorm.weight");
    for (float w : norm) {
      assertThat(w).isBetween(0.75f, 1.25f);
    }
    for (float b : checkpoint.floats("model.layers.1.mlp.gate.e_score_correction_bias")) {
      assertThat(Math.abs(b)).isLessThan(0.2f);
    }
  }

  @Test
  void routesRandomTokensToManyDifferentExperts() throws IOException {
    ModelShape shape = ModelPreset.TINY.shape().toBuilder().vocabSize(64).build();
    StoredCheckpoint checkpoint =
        StoredCheckpoint.read(generate(shape, WeightFormat.BF16, 4, "routing").directory());
    float[] router = checkpoint.floats("model.layers.1.mlp.gate.weight"); // (16, 64)
    float[] bias = checkpoint.floats("model.layers.1.mlp.gate.e_score_correction_bias");
    int experts = shape.nRoutedExperts();
    int d = shape.hiddenSize();
    Random random = new Random(3);
    Set<Integer> chosen = new HashSet<>();
    for (int token = 0; token < 32; token++) {
      double[] x = random.doubles(d).map(u -> random.nextGaussian()).toArray();
      double[] score = new double[experts];
      for (int e = 0; e < experts; e++) {
        double logit = 0;
        for (int k = 0; k < d; k++) {
          logit += router[e * d + k] * x[k];
        }
        score[e] = 1 / (1 + Math.exp(-logit)) + bias[e];
      }
      Stream.iterate(0, e -> e + 1)
          .limit(experts)
          .sorted((a, b) -> Double.compare(score[b], score[a]))
          .limit(shape.numExpertsPerTok())
          .forEach(chosen::add);
    }
    assertThat(chosen).hasSizeGreaterThanOrEqualTo(experts * 3 / 4);
  }

  @Test
  void countsTheSmallPresetsParameters() {
    ModelShape small = ModelPreset.SMALL.shape();
    assertThat(small.parameterCount()).isEqualTo(813_128_128L);
    assertThat(small.activeParameterCount()).isEqualTo(141_777_344L);
  }

  @Test
  void rejectsShapesTheReferenceCannotRun() {
    assertThatThrownBy(() -> ModelShape.builder().qkRopeHeadDim(15).build())
        .hasMessageContaining("qk_rope_head_dim is 15");
    assertThatThrownBy(() -> ModelShape.builder().nRoutedExperts(16).nGroup(16).build())
        .hasMessageContaining("groups of at least 2 experts");
    assertThatThrownBy(() -> ModelShape.builder().numExpertsPerTok(9).build())
        .hasMessageContaining("num_experts_per_tok is 9, must be in [1, 8]");
    assertThatThrownBy(() -> ModelShape.builder().firstKDenseReplace(5).build())
        .hasMessageContaining("first_k_dense_replace is 5");
    assertThatThrownBy(() -> ModelPreset.fromName("huge"))
        .hasMessageContaining("expected one of tiny, small");
  }

  private GeneratedModel generateOddFp8(long seed, int threads, String dir) throws IOException {
    return ModelGenerator.builder(ODD_SHAPE)
        .format(WeightFormat.FP8)
        .seed(seed)
        .threads(threads)
        .build()
        .writeTo(tmp.resolve(dir));
  }

  private static double rms(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum / values.length);
  }

  private static long sizeOfFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
