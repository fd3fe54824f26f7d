package io.moeflink.workbench.modelgen;

import io.moeflink.workbench.quantize.IntQuantization;
import java.util.Locale;

/** How a generated checkpoint stores its weights, following the real DeepSeek-V3 downloads. */
public enum WeightFormat {
  /** Every tensor BF16 except the F32 router bias ({@code e_score_correction_bias}). */
  BF16,
  /**
   * Attention, MLP and expert projections as F8_E4M3 with an F32 {@code weight_scale_inv} per
   * 128x128 block; embeddings, norms, the router weight and the LM head BF16; the router bias F32.
   */
  FP8,
  /**
   * The projections as compressed-tensors {@code pack-quantized} 8-bit integers (per channel,
   * symmetric unless the generator is told otherwise), everything else as {@link #BF16}.
   */
  INT8,
  /** As {@link #INT8} with 4-bit integers in groups of 32 columns. */
  INT4;

  /** The default integer quantization of this format, or null for BF16 and FP8. */
  public IntQuantization defaultQuantization() {
    return switch (this) {
      case INT8 -> IntQuantization.INT8;
      case INT4 -> IntQuantization.INT4;
      default -> null;
    };
  }

  /** The format called {@code name} (case-insensitive), e.g. {@code "fp8"}. */
  public static WeightFormat fromName(String name) {
    for (WeightFormat format : values()) {
      if (format.name().equalsIgnoreCase(name)) {
        return format;
      }
    }
    throw new IllegalArgumentException(
        "Unknown weight format '" + name + "', expected bf16, fp8, int8 or int4");
  }

  /** The lower-case name used on the command line. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
