package io.moeflink.engine.checkpoint;

/**
 * bfloat16: the upper 16 bits of an IEEE-754 float32 (1 sign, 8 exponent, 7 mantissa bits).
 *
 * <p>Decoding is exact. Encoding rounds to nearest, ties to even, as PyTorch's {@code
 * tensor.to(torch.bfloat16)} does, so weights written here equal what a Python tool would write
 * from the same float32 master values.
 */
public final class Bf16 {

  /** Quiet bit of a bfloat16 NaN: set so that truncating a signalling NaN cannot yield infinity. */
  private static final int QUIET_NAN_BIT = 0x0040;

  private Bf16() {}

  /** The bfloat16 bit pattern nearest to {@code value} (ties to even; NaN stays NaN). */
  public static short encode(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      // Truncation alone could clear every mantissa bit left and turn the NaN into infinity.
      return (short) ((bits >>> 16) | QUIET_NAN_BIT);
    }
    // Adding 0x7FFF plus the lowest kept bit rounds half-way cases to the even neighbour; a carry
    // out of the mantissa correctly bumps the exponent (up to infinity for the largest values).
    int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  /** The exact float32 value of a bfloat16 bit pattern. */
  public static float decode(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /**
   * An IEEE half-precision (F16) value, exactly: some quantized checkpoints store their scales so.
   * (Java 17 has no {@code Float.float16ToFloat}.)
   */
  public static float decodeHalf(short bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    if (exponent == 0x1F) { // infinity or NaN
      return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
    }
    if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, exact in F32
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
