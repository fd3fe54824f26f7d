package io.moeflink.engine.kernel;

/**
 * How a {@link WeightMatrix} stores its values; the kernels decode each in their registers, and
 * no encoding is expanded in memory.
 */
public enum WeightEncoding {
  /** 4 bytes a weight. */
  F32(32),
  /** 2 bytes a weight, the upper half of an F32. */
  BF16(16),
  /** FP8 E4M3 codes, 1 byte a weight, times a scale per 128 x 128 block (DeepSeek's {@code weight_scale_inv}). */
  FP8(8),
  /**
   * Integers of 8 bits, times a scale per row and group of columns, minus a zero point where the
   * quantization is asymmetric (compressed-tensors {@code int-quantized} or 8-bit {@code
   * pack-quantized}).
   */
  INT8(8),
  /** Integers of 4 bits, two a byte, scaled as {@link #INT8} (compressed-tensors {@code pack-quantized}). */
  INT4(4);

  private final int bits;

  WeightEncoding(int bits) {
    this.bits = bits;
  }

  /** Bits a weight occupies (scales not counted). */
  public int bits() {
    return bits;
  }
}
