package io.moeflink.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The DeepSeek-V3 hyper-parameters the math uses, read once from a Hugging Face {@code
 * config.json}. Immutable; passed explicitly to everything that needs it.
 *
 * <p>Values this engine cannot compute exactly (another router, activation or RoPE type) are
 * rejected here, at load, with the key, the value and what is supported.
 */
public record ModelConfig(
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int moeIntermediateSize,
    int numHiddenLayers,
    int firstKDenseReplace,
    int numHeads,
    int qLoraRank,
    int kvLoraRank,
    int qkNopeHeadDim,
    int qkRopeHeadDim,
    int vHeadDim,
    int nRoutedExperts,
    int nSharedExperts,
    int numExpertsPerTok,
    int nGroup,
    int topkGroup,
    double routedScalingFactor,
    boolean normTopkProb,
    double rmsNormEps,
    double ropeTheta,
    int maxPositionEmbeddings,
    YarnScaling yarn,
    int bosTokenId,
    int eosTokenId,
    ModelFamily family,
    RouterScoring scoring,
    TopkMethod topkMethod,
    SparseIndexer indexer) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelConfig {
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("num_hidden_layers", numHiddenLayers);
    positive("num_attention_heads", numHeads);
    positive("kv_lora_rank", kvLoraRank);
    positive("qk_nope_head_dim", qkNopeHeadDim);
    positive("v_head_dim", vHeadDim);
    positive("max_position_embeddings", maxPositionEmbeddings);
    if (qkRopeHeadDim <= 0 || qkRopeHeadDim % 2 != 0) {
      throw new ModelConfigException(
          "qk_rope_head_dim is " + qkRopeHeadDim + ", expected a positive even number (RoPE rotates pairs)");
    }
    if (qLoraRank < 0) {
      throw new ModelConfigException("q_lora_rank is " + qLoraRank + ", expected null, 0 or a positive rank");
    }
    if (firstKDenseReplace < 0 || firstKDenseReplace > numHiddenLayers) {
      throw new ModelConfigException(
          "first_k_dense_replace is " + firstKDenseReplace + ", expected 0.." + numHiddenLayers + " (num_hidden_layers)");
    }
    if (firstKDenseReplace > 0) {
      positive("intermediate_size", intermediateSize);
    }
    if (firstKDenseReplace < numHiddenLayers) {
      validateMoe(nRoutedExperts, nSharedExperts, numExpertsPerTok, nGroup, topkGroup, moeIntermediateSize,
          topkMethod);
    }
    if (indexer != null && qLoraRank == 0) {
      throw new ModelConfigException("index_n_heads is set but q_lora_rank is null: DeepSeek-V3.2-Exp's indexer"
          + " projects the query latent, so it needs q_lora_rank");
    }
    if (!(rmsNormEps > 0)) {
      throw new ModelConfigException("rms_norm_eps is " + rmsNormEps + ", expected a positive number");
    }
    if (!(ropeTheta > 1)) {
      throw new ModelConfigException("rope_theta is " + ropeTheta + ", expected a number above 1");
    }
  }

  private static void validateMoe(
      int experts, int shared, int topK, int groups, int topkGroup, int moeInter, TopkMethod method) {
    positive("n_routed_experts", experts);
    positive("num_experts_per_tok", topK);
    positive("moe_intermediate_size", moeInter);
    if (shared < 0) {
      throw new ModelConfigException("n_shared_experts is " + shared + ", expected 0 or more");
    }
    if (groups <= 0 || experts % groups != 0) {
      throw new ModelConfigException(
          "n_group is " + groups + ", expected a positive divisor of n_routed_experts (" + experts + ")");
    }
    if (method == TopkMethod.GREEDY) {
      if (topK > experts) {
        throw new ModelConfigException("num_experts_per_tok is " + topK + ", more than the " + experts + " experts");
      }
      return; // greedy selection ignores the groups
    }
    if (method == TopkMethod.NOAUX_TC && experts / groups < 2) {
      throw new ModelConfigException(
          "n_group is " + groups + " for " + experts + " experts: each group needs at least 2 experts,"
              + " since a group's score is the sum of its top-2 biased scores");
    }
    if (topkGroup <= 0 || topkGroup > groups) {
      throw new ModelConfigException("topk_group is " + topkGroup + ", expected 1.." + groups + " (n_group)");
    }
    if (topK > topkGroup * (experts / groups)) {
      throw new ModelConfigException(
          "num_experts_per_tok is " + topK + ", but the " + topkGroup + " kept groups hold only "
              + topkGroup * (experts / groups) + " experts");
    }
  }

  private static void positive(String key, long value) {
    if (value <= 0) {
      throw new ModelConfigException(key + " is " + value + ", expected a positive number");
    }
  }

  /** Reads {@code dir/config.json}. */
  public static ModelConfig load(Path dir) throws IOException {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new ModelConfigException("No config.json in " + dir + ": expected a Hugging Face model directory");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new ModelConfigException(file + " is not valid JSON: " + e.getMessage());
    }
    return fromJson(root);
  }

  /** Builds the config from a parsed {@code config.json}, validating every key the math uses. */
  public static ModelConfig fromJson(JsonNode c) {
    String modelType = text(c, "model_type", null);
    if (modelType == null) {
      throw new ModelConfigException("config.json has no model_type, expected one of " + String.join(", ", MODEL_TYPES));
    }
    if (!MODEL_TYPES.contains(modelType)) {
      throw new ModelConfigException(
          "model_type is \"" + modelType + "\", expected one of " + String.join(", ", MODEL_TYPES));
    }
    boolean v2 = modelType.equals("deepseek_v2");
    requireArchitecture(c, modelType);
    requireText(c, "hidden_act", "silu", true);
    // Trap 1: the router is chosen by topk_method and scoring_func, never by sizes.
    RouterScoring scoring = scoring(text(c, "scoring_func", v2 ? "softmax" : "sigmoid"), v2);
    TopkMethod method = topkMethod(text(c, "topk_method", v2 ? "greedy" : "noaux_tc"), v2);
    if (c.hasNonNull("moe_layer_freq") && c.get("moe_layer_freq").asInt() != 1) {
      throw new ModelConfigException(
          "moe_layer_freq is " + c.get("moe_layer_freq") + ", only 1 (every layer after first_k_dense_replace) is supported");
    }
    boolean ue8m0 = ue8m0Scales(c.get("quantization_config"));
    int layers = integer(c, "num_hidden_layers");
    int experts = integerOr(c, "n_routed_experts", 0);
    int qLoraRank = integerOr(c, "q_lora_rank", 0);
    int groups = integerOr(c, "n_group", 1);
    return new ModelConfig(
        integer(c, "vocab_size"),
        integer(c, "hidden_size"),
        integerOr(c, "intermediate_size", 0),
        integerOr(c, "moe_intermediate_size", 0),
        layers,
        integerOr(c, "first_k_dense_replace", experts == 0 ? layers : 0),
        integer(c, "num_attention_heads"),
        qLoraRank,
        integer(c, "kv_lora_rank"),
        integer(c, "qk_nope_head_dim"),
        integer(c, "qk_rope_head_dim"),
        integer(c, "v_head_dim"),
        experts,
        integerOr(c, "n_shared_experts", 0),
        integerOr(c, "num_experts_per_tok", 0),
        groups,
        integerOr(c, "topk_group", 1),
        number(c, "routed_scaling_factor", 1.0),
        // DeepseekV2Config defaults norm_topk_prob to false, DeepseekV3Config to true
        c.hasNonNull("norm_topk_prob") ? c.get("norm_topk_prob").asBoolean() : !v2,
        number(c, "rms_norm_eps", 1e-6),
        number(c, "rope_theta", 10000.0),
        integer(c, "max_position_embeddings"),
        yarn(c.get("rope_scaling")),
        integerOr(c, "bos_token_id", 0),
        firstInt(c.get("eos_token_id"), 1),
        ModelFamily.of(modelType, qLoraRank > 0, groups, ue8m0),
        scoring,
        method,
        indexer(c, modelType));
  }

  /** The {@code model_type}s this engine computes, and the architecture each must declare. */
  private static final java.util.Map<String, String> ARCHITECTURES = java.util.Map.of(
      "deepseek_v3", "DeepseekV3ForCausalLM",
      "kimi_k2", "DeepseekV3ForCausalLM",
      "deepseek_v32", "DeepseekV32ForCausalLM",
      "deepseek_v2", "DeepseekV2ForCausalLM");

  private static final java.util.List<String> MODEL_TYPES =
      java.util.List.of("deepseek_v3", "deepseek_v32", "kimi_k2", "deepseek_v2");

  private static void requireArchitecture(JsonNode c, String modelType) {
    JsonNode list = c.get("architectures");
    if (list == null || list.isNull()) {
      return;
    }
    String expected = ARCHITECTURES.get(modelType);
    if (!list.isArray() || list.size() != 1 || !list.get(0).asText().equals(expected)) {
      throw new ModelConfigException(
          "architectures is " + list + ", expected [\"" + expected + "\"] for model_type \"" + modelType + "\"");
    }
  }

  private static RouterScoring scoring(String value, boolean v2) {
    // DeepSeek's HF code computes only these pairs: V2 gates by softmax, V3 by sigmoid
    String expected = v2 ? "softmax" : "sigmoid";
    if (!value.equals(expected)) {
      throw new ModelConfigException("scoring_func is \"" + value + "\", only \"" + expected + "\" is supported for "
          + (v2 ? "DeepSeek-V2" : "the DeepSeek-V3 architecture"));
    }
    return v2 ? RouterScoring.SOFTMAX : RouterScoring.SIGMOID;
  }

  private static TopkMethod topkMethod(String value, boolean v2) {
    java.util.List<TopkMethod> supported = v2
        ? java.util.List.of(TopkMethod.GREEDY, TopkMethod.GROUP_LIMITED_GREEDY)
        : java.util.List.of(TopkMethod.NOAUX_TC);
    for (TopkMethod m : supported) {
      if (m.key().equals(value)) {
        return m;
      }
    }
    throw new ModelConfigException("topk_method is \"" + value + "\", only "
        + String.join(" or ", supported.stream().map(m -> "\"" + m.key() + "\"").toList()) + " is supported for "
        + (v2 ? "DeepSeek-V2" : "the DeepSeek-V3 architecture"));
  }

  /**
   * {@code quantization_config.scale_fmt}: DeepSeek-V3.1's {@code ue8m0} says the FP8 block scales
   * are powers of two (an 8-bit exponent). The reference uses it to round the scales of
   * ACTIVATIONS it quantizes for its FP8 GEMM; the stored weight scales are multiplied as they are,
   * so weight dequantization does not change (and a power-of-two product is exact). This engine
   * does not quantize activations, so nothing else changes either.
   */
  private static boolean ue8m0Scales(JsonNode q) {
    if (q == null || q.isNull() || !q.hasNonNull("scale_fmt")) {
      return false;
    }
    String fmt = q.get("scale_fmt").asText();
    if (!fmt.equals("ue8m0")) {
      throw new ModelConfigException(
          "quantization_config.scale_fmt is \"" + fmt + "\", only \"ue8m0\" (or no scale_fmt) is supported");
    }
    return true;
  }

  private static SparseIndexer indexer(JsonNode c, String modelType) {
    if (!modelType.equals("deepseek_v32")) {
      return null;
    }
    return new SparseIndexer(integer(c, "index_n_heads"), integer(c, "index_head_dim"), integer(c, "index_topk"));
  }

  private static String text(JsonNode c, String key, String fallback) {
    JsonNode v = c.get(key);
    return v == null || v.isNull() ? fallback : v.asText();
  }

  private static YarnScaling yarn(JsonNode s) {
    if (s == null || s.isNull()) {
      return null;
    }
    // Trap 7: HF writes "type", newer configs "rope_type".
    String type = s.hasNonNull("type") ? s.get("type").asText() : s.path("rope_type").asText("");
    if (!type.toLowerCase(Locale.ROOT).equals("yarn")) {
      throw new ModelConfigException(
          "rope_scaling.type is \"" + type + "\", only \"yarn\" (or no rope_scaling) is supported");
    }
    double factor = number(s, "factor", 1.0);
    if (!(factor >= 1)) {
      throw new ModelConfigException("rope_scaling.factor is " + factor + ", expected >= 1");
    }
    return new YarnScaling(
        factor,
        integer(s, "original_max_position_embeddings"),
        number(s, "beta_fast", 32),
        number(s, "beta_slow", 1),
        number(s, "mscale", 1),
        number(s, "mscale_all_dim", 0));
  }

  private static void requireText(JsonNode c, String key, String supported, boolean optional) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) {
      if (optional) {
        return;
      }
      throw new ModelConfigException("config.json has no " + key + ", expected \"" + supported + "\"");
    }
    if (!v.asText().equals(supported)) {
      throw new ModelConfigException(key + " is \"" + v.asText() + "\", only \"" + supported + "\" is supported");
    }
  }

  private static int integer(JsonNode c, String key) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) {
      throw new ModelConfigException("config.json has no " + key);
    }
    if (!v.canConvertToInt() || (v.isFloatingPointNumber() && v.asDouble() != Math.rint(v.asDouble()))) {
      throw new ModelConfigException(key + " is " + v + ", expected an integer");
    }
    return v.asInt();
  }

  private static int integerOr(JsonNode c, String key, int fallback) {
    return c.hasNonNull(key) ? integer(c, key) : fallback;
  }

  private static double number(JsonNode c, String key, double fallback) {
    JsonNode v = c.get(key);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isNumber()) {
      throw new ModelConfigException(key + " is " + v + ", expected a number");
    }
    return v.asDouble();
  }

  private static int firstInt(JsonNode v, int fallback) {
    if (v == null || v.isNull()) {
      return fallback;
    }
    return v.isArray() ? (v.size() == 0 ? fallback : v.get(0).asInt()) : v.asInt();
  }

  /** Whether layer {@code layer} uses the routed-expert FFN. */
  public boolean isMoeLayer(int layer) {
    return layer >= firstKDenseReplace;
  }

  /** Number of MoE layers. */
  public int moeLayerCount() {
    return numHiddenLayers - firstKDenseReplace;
  }

  /** Per-head query/key width: {@code dn + dr}. */
  public int qkHeadDim() {
    return qkNopeHeadDim + qkRopeHeadDim;
  }

  /** Whether the query goes through the low-rank {@code q_a_proj}/{@code q_b_proj} path. */
  public boolean hasQueryLora() {
    return qLoraRank > 0;
  }

  /**
   * The longest sequence (prompt + generated tokens) this engine computes exactly: the context, or
   * for DeepSeek-V3.2-Exp {@code index_topk}, beyond which sparse attention would drop positions.
   */
  public int exactContext() {
    return indexer == null ? maxPositionEmbeddings : Math.min(maxPositionEmbeddings, indexer.topk());
  }

  /** Why {@link #exactContext()} is the limit, for refusals. */
  public String exactContextLimit() {
    return indexer == null
        ? "the model's context of " + maxPositionEmbeddings
        : family.displayName() + "'s index_topk of " + indexer.topk() + " (beyond it DeepSeek Sparse Attention keeps"
            + " only index_topk positions per query, which this engine does not implement)";
  }

  /** Experts in one routing group (groups are contiguous blocks of expert ids). */
  public int expertsPerGroup() {
    return nRoutedExperts / nGroup;
  }

  /**
   * The attention softmax scale: {@code (dn + dr)^-0.5 * m^2} with YaRN's {@code m} from
   * {@code mscale_all_dim} (trap 8). Applied whenever the config asks for YaRN (trap 7).
   */
  public double softmaxScale() {
    double scale = 1.0 / Math.sqrt(qkHeadDim());
    if (yarn != null && yarn.mscaleAllDim() != 0) {
      double m = YarnScaling.attentionFactor(yarn.factor(), yarn.mscaleAllDim());
      scale *= m * m;
    }
    return scale;
  }

  /** One line for logs. */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%s: layers=%d (dense %d) hidden=%d heads=%d q_lora=%d kv_lora=%d experts=%d (%s %s, groups %d keep %d, top-%d, shared %d) vocab=%d",
        family.displayName(), numHiddenLayers, firstKDenseReplace, hiddenSize, numHeads, qLoraRank, kvLoraRank,
        nRoutedExperts, scoring.name().toLowerCase(Locale.ROOT), topkMethod.key(), nGroup, topkGroup, numExpertsPerTok, nSharedExperts, vocabSize);
  }
}
