package io.moeflink.engine.config;

/**
 * The YaRN {@code rope_scaling} block of a DeepSeek-V3 config (arXiv 2309.00071).
 *
 * @param factor context extension factor {@code s}
 * @param originalMaxPositions {@code original_max_position_embeddings}, {@code L0}
 * @param betaFast rotations where interpolation stops (high frequencies kept)
 * @param betaSlow rotations where full interpolation starts
 * @param mscale HF's cos/sin scale key; the reference ignores it (trap 8)
 * @param mscaleAllDim the key whose {@code m} is squared into the softmax scale
 */
public record YarnScaling(
    double factor,
    int originalMaxPositions,
    double betaFast,
    double betaSlow,
    double mscale,
    double mscaleAllDim) {

  /** {@code 0.1 * mscale * ln(factor) + 1}, or 1 when the factor does not extend the context. */
  public static double attentionFactor(double factor, double mscale) {
    return factor <= 1 ? 1.0 : 0.1 * mscale * Math.log(factor) + 1.0;
  }
}
