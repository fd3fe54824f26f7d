package io.moeflink.workbench.modelgen;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Named model shapes that tests, the demo and benchmarks share. */
public enum ModelPreset {
  /**
   * Runs in seconds, yet has the real DeepSeek-V3 vocabulary (129280) so that the generator adds
   * the tokenizer and the demo speaks text. 4 layers (1 dense), 16 experts in 4 groups.
   */
  TINY(
      new ModelShape(
          129280, // vocab_size
          64, // hidden_size
          192, // intermediate_size
          32, // moe_intermediate_size
          4, // num_hidden_layers
          1, // first_k_dense_replace
          4, // num_attention_heads
          32, // q_lora_rank
          32, // kv_lora_rank
          16, // qk_nope_head_dim
          16, // qk_rope_head_dim
          16, // v_head_dim
          16, // n_routed_experts
          1, // n_shared_experts
          4, // num_experts_per_tok
          4, // n_group
          2, // topk_group
          2.5, // routed_scaling_factor
          4096, // max_position_embeddings
          10000, // rope_theta
          ModelShape.Yarn.of(4, 1024))),

  /**
   * The benchmark model: 813M parameters (1.6 GB in BF16), 142M active per token. Fixed so that
   * throughput figures stay comparable over time; do not change it.
   */
  SMALL(
      new ModelShape(
          32000, // vocab_size
          1024, // hidden_size
          2816, // intermediate_size
          512, // moe_intermediate_size
          8, // num_hidden_layers
          1, // first_k_dense_replace
          16, // num_attention_heads
          384, // q_lora_rank
          256, // kv_lora_rank
          64, // qk_nope_head_dim
          32, // qk_rope_head_dim
          64, // v_head_dim
          64, // n_routed_experts
          1, // n_shared_experts
          6, // num_experts_per_tok
          8, // n_group
          4, // topk_group
          2.5, // routed_scaling_factor
          4096, // max_position_embeddings
          10000, // rope_theta
          ModelShape.Yarn.of(4, 1024)));

  private final ModelShape shape;

  ModelPreset(ModelShape shape) {
    this.shape = shape;
  }

  public ModelShape shape() {
    return shape;
  }

  /** The preset called {@code name} (case-insensitive), e.g. {@code "tiny"}. */
  public static ModelPreset fromName(String name) {
    for (ModelPreset preset : values()) {
      if (preset.name().equalsIgnoreCase(name)) {
        return preset;
      }
    }
    throw new IllegalArgumentException(
        "Unknown model preset '"
            + name
            + "', expected one of "
            + Arrays.stream(values()).map(ModelPreset::toString).collect(Collectors.joining(", ")));
  }

  /** The lower-case name used on the command line. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
