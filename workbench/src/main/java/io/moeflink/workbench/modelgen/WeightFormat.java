package io.moeflink.workbench.modelgen;

import java.util.Locale;

/** How a generated checkpoint stores its weights, following the real DeepSeek-V3 downloads. */
public enum WeightFormat {
  /** Every tensor BF16 except the F32 router bias ({@code e_score_correction_bias}). */
  BF16,
  /**
   * Attention, MLP and expert projections as F8_E4M3 with an F32 {@code weight_scale_inv} per
   * 128x128 block; embeddings, norms, the router weight and the LM head BF16; the router bias F32.
   */
  FP8;

  /** The format called {@code name} (case-insensitive), e.g. {@code "fp8"}. */
  public static WeightFormat fromName(String name) {
    for (WeightFormat format : values()) {
      if (format.name().equalsIgnoreCase(name)) {
        return format;
      }
    }
    throw new IllegalArgumentException(
        "Unknown weight format '" + name + "', expected bf16 or fp8");
  }

  /** The lower-case name used on the command line. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
