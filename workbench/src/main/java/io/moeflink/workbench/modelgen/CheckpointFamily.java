package io.moeflink.workbench.modelgen;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The published checkpoint families the generator can lay out: each writes its real {@code
 * config.json} keys ({@code model_type}, {@code architectures}, router keys, V3.2-Exp's indexer
 * keys) and tensor names (no router bias for V2's routers, V3.2-Exp's {@code self_attn.indexer.*}),
 * and {@link #adapt} gives a shape the family's distinguishing settings at small sizes.
 */
public enum CheckpointFamily {
  /** DeepSeek-V3 (also V3-0324, R1, V3.1: the same tensors): the shape as given. */
  V3("v3", "deepseek_v3", "DeepseekV3ForCausalLM", "sigmoid", "noaux_tc", true),
  /** DeepSeek-V3.1: V3's tensors, FP8 only, block scales powers of two ({@code scale_fmt: ue8m0}). */
  V3_1("v3.1", "deepseek_v3", "DeepseekV3ForCausalLM", "sigmoid", "noaux_tc", true),
  /** DeepSeek-V3.2-Exp: V3 plus each layer's lightning indexer. */
  V3_2_EXP("v3.2-exp", "deepseek_v32", "DeepseekV32ForCausalLM", "sigmoid", "noaux_tc", true),
  /** Kimi K2: one expert group, rope_theta 50000, YaRN with betas 1 and 1, V3's router with its bias. */
  KIMI_K2("kimi-k2", "kimi_k2", "DeepseekV3ForCausalLM", "sigmoid", "noaux_tc", true),
  /** Moonlight-16B-A3B: one expert group, no query latent, 2 shared experts, rope_theta 50000, no YaRN. */
  MOONLIGHT("moonlight", "deepseek_v3", "DeepseekV3ForCausalLM", "sigmoid", "noaux_tc", true),
  /** DeepSeek-V2: softmax router, group-limited greedy, no renormalisation, scale 16, YaRN mscale 0.707. */
  V2("v2", "deepseek_v2", "DeepseekV2ForCausalLM", "softmax", "group_limited_greedy", false),
  /** DeepSeek-V2-Lite: V2 without a query latent, greedy top-k, one group, scale 1, 2 shared experts. */
  V2_LITE("v2-lite", "deepseek_v2", "DeepseekV2ForCausalLM", "softmax", "greedy", false);

  /** V3.2-Exp's indexer at small sizes: {@code index_n_heads}, {@code index_head_dim}. */
  static final int INDEX_HEADS = 4;

  static final int INDEX_HEAD_DIM = 16;

  /** DeepSeek-V2's YaRN {@code mscale} and {@code mscale_all_dim}. */
  private static final double V2_MSCALE = 0.707;

  /** Moonshot's rotary base. */
  private static final double KIMI_ROPE_THETA = 50000;

  private final String cliName;
  private final String modelType;
  private final String architecture;
  private final String scoringFunc;
  private final String topkMethod;
  private final boolean routerBias;

  CheckpointFamily(
      String cliName, String modelType, String architecture, String scoringFunc, String topkMethod,
      boolean routerBias) {
    this.cliName = cliName;
    this.modelType = modelType;
    this.architecture = architecture;
    this.scoringFunc = scoringFunc;
    this.topkMethod = topkMethod;
    this.routerBias = routerBias;
  }

  /** {@code model_type}. */
  public String modelType() {
    return modelType;
  }

  /** The one entry of {@code architectures}. */
  public String architecture() {
    return architecture;
  }

  /** {@code scoring_func}. */
  public String scoringFunc() {
    return scoringFunc;
  }

  /** {@code topk_method}. */
  public String topkMethod() {
    return topkMethod;
  }

  /** Whether MoE layers store {@code mlp.gate.e_score_correction_bias} ({@code noaux_tc} routers). */
  public boolean routerBias() {
    return routerBias;
  }

  /** DeepSeek-V2's routers do not renormalise the chosen weights. */
  public boolean normTopkProb() {
    return routerBias;
  }

  /** Whether FP8 block scales are powers of two, declared {@code quantization_config.scale_fmt: ue8m0}. */
  public boolean ue8m0Scales() {
    return this == V3_1;
  }

  /** Whether each layer has V3.2-Exp's indexer. */
  public boolean indexer() {
    return this == V3_2_EXP;
  }

  /**
   * {@code shape} with the family's distinguishing settings: expert groups, query latent, shared
   * experts, routed scaling, rotary base and YaRN. Sizes (width, heads, experts) stay as given.
   */
  public ModelShape adapt(ModelShape shape) {
    ModelShape.Builder b = shape.toBuilder();
    int experts = shape.nRoutedExperts();
    int topK = Math.min(shape.numExpertsPerTok(), experts);
    int maxPositions = shape.maxPositionEmbeddings();
    switch (this) {
      case V3, V3_1, V3_2_EXP -> {}
      case KIMI_K2 -> b.nGroup(1).topkGroup(1).nSharedExperts(1).routedScalingFactor(2.827).ropeTheta(KIMI_ROPE_THETA)
          .ropeScaling(new ModelShape.Yarn(32, Math.max(1, maxPositions / 32), 1, 1, 1, 1));
      case MOONLIGHT -> b.nGroup(1).topkGroup(1).qLoraRank(0).nSharedExperts(2).routedScalingFactor(2.446)
          .ropeTheta(KIMI_ROPE_THETA).ropeScaling(null);
      case V2 -> b.routedScalingFactor(16).ropeScaling(v2Yarn(maxPositions));
      case V2_LITE -> b.nGroup(1).topkGroup(1).qLoraRank(0).nSharedExperts(2).routedScalingFactor(1.0)
          .ropeScaling(v2Yarn(maxPositions));
    }
    return b.numExpertsPerTok(topK).build();
  }

  private static ModelShape.Yarn v2Yarn(int maxPositions) {
    return new ModelShape.Yarn(40, Math.max(1, maxPositions / 40), 32, 1, V2_MSCALE, V2_MSCALE);
  }

  /** The family called {@code name} on the command line, e.g. {@code "v2-lite"}. */
  public static CheckpointFamily fromName(String name) {
    for (CheckpointFamily f : values()) {
      if (f.cliName.equalsIgnoreCase(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("Unknown family '" + name + "', expected one of "
        + Arrays.stream(values()).map(CheckpointFamily::toString).collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return cliName.toLowerCase(Locale.ROOT);
  }
}
