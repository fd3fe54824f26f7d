package io.moeflink.engine.config;

/**
 * Which published checkpoint family a {@code config.json} describes. The math never branches on
 * the family: it follows the config keys ({@code topk_method}, {@code scoring_func}, {@code
 * q_lora_rank}, ...). The family names the checkpoint in logs and refusals, and chooses the chat
 * format when the checkpoint ships no template.
 */
public enum ModelFamily {
  /** DeepSeek-V3, V3-0324 and R1: the same tensors and config; R1 differs in its chat template. */
  DEEPSEEK_V3("DeepSeek-V3 / V3-0324 / R1"),
  /** DeepSeek-V3.1 and V3.1-Terminus: V3's tensors, FP8 scales declared {@code scale_fmt: ue8m0}. */
  DEEPSEEK_V3_1("DeepSeek-V3.1 / V3.1-Terminus"),
  /** DeepSeek-V3.2-Exp ({@code deepseek_v32}): V3 plus the lightning indexer of DeepSeek Sparse Attention. */
  DEEPSEEK_V3_2_EXP("DeepSeek-V3.2-Exp"),
  /** Kimi K2 (Moonshot): V3's architecture with a single expert group and a query latent. */
  KIMI_K2("Kimi K2"),
  /** Moonlight-16B-A3B (Moonshot): V3's architecture, one expert group, no query latent. */
  MOONLIGHT("Moonlight"),
  /** DeepSeek-V2 ({@code deepseek_v2}): softmax router, group-limited greedy selection. */
  DEEPSEEK_V2("DeepSeek-V2"),
  /** DeepSeek-V2-Lite: V2 without a query latent, greedy selection. */
  DEEPSEEK_V2_LITE("DeepSeek-V2-Lite");

  private final String displayName;

  ModelFamily(String displayName) {
    this.displayName = displayName;
  }

  /** The name people download the checkpoint by. */
  public String displayName() {
    return displayName;
  }

  /** Whether the published checkpoints come from Moonshot AI (tiktoken tokenizer, {@code <|im_...|>} chat format). */
  public boolean isKimi() {
    return this == KIMI_K2 || this == MOONLIGHT;
  }

  /** Whether the family is DeepSeek-V2's (softmax router, {@code User: ...\n\nAssistant:} chat format). */
  public boolean isV2() {
    return this == DEEPSEEK_V2 || this == DEEPSEEK_V2_LITE;
  }

  static ModelFamily of(String modelType, boolean queryLora, int groups, boolean ue8m0Scales) {
    return switch (modelType) {
      case "deepseek_v32" -> DEEPSEEK_V3_2_EXP;
      case "kimi_k2" -> queryLora ? KIMI_K2 : MOONLIGHT;
      case "deepseek_v2" -> queryLora ? DEEPSEEK_V2 : DEEPSEEK_V2_LITE;
      // Moonshot's checkpoints keep model_type deepseek_v3; DeepSeek's own always route in groups.
      default -> groups == 1 ? (queryLora ? KIMI_K2 : MOONLIGHT) : ue8m0Scales ? DEEPSEEK_V3_1 : DEEPSEEK_V3;
    };
  }

  @Override
  public String toString() {
    return displayName;
  }
}
