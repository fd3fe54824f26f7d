package io.moeflink.workbench.modelgen;

import java.nio.charset.StandardCharsets;

/**
 * Counter-based random weights: element {@code i} of a tensor is a pure function of (model seed,
 * tensor name, {@code i}). Tensors therefore do not depend on the order or the threads that
 * generate them, any slice of a tensor can be produced on its own, and the same seed gives
 * byte-identical checkpoints.
 *
 * <p>Each element is one SplitMix64 output (the golden-gamma counter through Stafford's "mix13"
 * finaliser). Its four 16-bit lanes are summed into an Irwin-Hall(4) variate, rescaled to mean 0
 * and variance 1: a bell shape bounded by ±2√3 that costs one 64-bit mix per weight, which keeps
 * generating the 1.6 GB {@code small} preset I/O-bound. Random test weights need no more.
 */
final class TensorRandom {

  /** SplitMix64's increment: the odd integer nearest 2^64 divided by the golden ratio. */
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private static final long FNV_OFFSET_BASIS = 0xCBF29CE484222325L;
  private static final long FNV_PRIME = 0x100000001B3L;

  /** One 16-bit lane step as a fraction of 1. */
  private static final float LANE_UNIT = 1f / 65536;

  /** Sum of four lanes' midpoints: the mean of the lane sum, in lane units. */
  private static final float LANE_SUM_MEAN = 2f;

  /** 1 / standard deviation of a sum of four U(0,1): sqrt(12 / 4). */
  private static final float UNIT_VARIANCE_SCALE = (float) Math.sqrt(3);

  /** This tensor's stream key. */
  private final long key;

  private TensorRandom(long key) {
    this.key = key;
  }

  /** The stream for {@code tensorName} in the model generated from {@code seed}. */
  static TensorRandom forTensor(long seed, String tensorName) {
    long nameHash = FNV_OFFSET_BASIS;
    for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
      nameHash = (nameHash ^ (b & 0xFF)) * FNV_PRIME;
    }
    return new TensorRandom(mix(mix(seed) ^ nameHash));
  }

  /** A roughly standard normal value for element {@code index} (mean 0, variance 1, |x| < 3.47). */
  float gaussian(long index) {
    long bits = mix(key + (index + 1) * GOLDEN_GAMMA);
    long lanes =
        (bits & 0xFFFF) + ((bits >>> 16) & 0xFFFF) + ((bits >>> 32) & 0xFFFF) + (bits >>> 48);
    // Lane values c stand for (c + 0.5) / 65536, so the four half-steps add 2 lane units.
    float sum = (lanes + 2) * LANE_UNIT;
    return (sum - LANE_SUM_MEAN) * UNIT_VARIANCE_SCALE;
  }

  /** SplitMix64's output function (Stafford's mix13): a bijection that scrambles all 64 bits. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
