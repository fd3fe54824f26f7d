package io.moeflink.engine.checkpoint;

/**
 * FP8 E4M3 in its "fn" variant ({@code torch.float8_e4m3fn}), the weight format of DeepSeek-V3's
 * FP8 checkpoints: 1 sign, 4 exponent (bias 7) and 3 mantissa bits, no infinities, only {@code
 * S.1111.111} is NaN, so the largest finite magnitude is {@code 1.75 * 2^8 = 448}.
 *
 * <p>Exponent field 0 encodes subnormals {@code m/8 * 2^-6}. They occur in real block-quantised
 * weights (small entries of a block with a large maximum), and reading them as normals moves logits
 * visibly, so both directions handle them exactly.
 */
public final class Fp8E4M3 {

  /** Largest finite magnitude. */
  public static final float MAX = 448f;

  /** Bit pattern of +448 ({@code 0.1111.110}). */
  private static final int MAX_CODE = 0x7E;

  /** Bit pattern of NaN without sign ({@code 0.1111.111}). */
  private static final int NAN_CODE = 0x7F;

  /** float32 exponent bias minus E4M3 exponent bias. */
  private static final int EXPONENT_REBIAS = 127 - 7;

  /** Float32 mantissa bits dropped to keep E4M3's three. */
  private static final int DROPPED_MANTISSA_BITS = 23 - 3;

  /** 2^9: subnormal codes count in steps of {@code 2^-6 / 8 = 2^-9}. */
  private static final float SUBNORMAL_STEPS_PER_UNIT = 512f;

  /** Smallest normal magnitude, {@code 2^-6}. */
  private static final float MIN_NORMAL = 0x1p-6f;

  /** Every code's value, indexed by the unsigned byte; never modified after class init. */
  private static final float[] DECODED = decodeTable();

  private Fp8E4M3() {}

  /**
   * The E4M3 code nearest to {@code value}, ties to even. Magnitudes at or above {@link #MAX}
   * (infinities included) saturate to ±448, because the format has no infinity and a block
   * quantiser must never produce NaN from a finite weight. NaN stays NaN.
   */
  public static byte encode(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 24) & 0x80;
    if (Float.isNaN(value)) {
      return (byte) (sign | NAN_CODE);
    }
    float magnitude = Math.abs(value);
    if (magnitude >= MAX) {
      return (byte) (sign | MAX_CODE);
    }
    if (magnitude < MIN_NORMAL) {
      // Scaling by a power of two is exact, and rint rounds ties to even. A result of 8 is code
      // 0.0001.000, the smallest normal, so the count is the code in every case.
      return (byte) (sign | (int) Math.rint(magnitude * SUBNORMAL_STEPS_PER_UNIT));
    }
    int magnitudeBits = bits & 0x7FFFFFFF;
    // Round the 23-bit mantissa to 3 bits, ties to even; a carry rolls into the exponent field.
    int roundingBias =
        (1 << (DROPPED_MANTISSA_BITS - 1)) - 1 + ((magnitudeBits >>> DROPPED_MANTISSA_BITS) & 1);
    int rounded = (magnitudeBits + roundingBias) >>> DROPPED_MANTISSA_BITS;
    // Below 448 rounding lands at most on 448 itself, so the result is always a finite code.
    return (byte) (sign | (rounded - (EXPONENT_REBIAS << 3)));
  }

  /** The exact value of an E4M3 code (NaN for {@code S.1111.111}). */
  public static float decode(byte code) {
    return DECODED[code & 0xFF];
  }

  private static float[] decodeTable() {
    float[] table = new float[256];
    for (int code = 0; code < 256; code++) {
      table[code] = decodeArithmetically(code);
    }
    return table;
  }

  private static float decodeArithmetically(int code) {
    int exponent = (code >>> 3) & 0xF;
    int mantissa = code & 0x7;
    float magnitude;
    if (exponent == 0xF && mantissa == 0x7) {
      magnitude = Float.NaN;
    } else if (exponent == 0) {
      magnitude = mantissa / SUBNORMAL_STEPS_PER_UNIT;
    } else {
      magnitude = Math.scalb(1f + mantissa / 8f, exponent - 7);
    }
    return (code & 0x80) != 0 ? -magnitude : magnitude;
  }
}
