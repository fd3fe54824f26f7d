package io.moeflink.engine.kernel;

/**
 * FP8 E4M3 ("fn" variant, as DeepSeek-V3 stores it): sign, 4 exponent bits with bias 7, 3
 * mantissa bits; no infinities; {@code S.1111.111} is NaN; largest finite value 448. Exponent
 * field 0 is subnormal: {@code m/8 * 2^-6} (decoding these as normals moves logits by 2e-2).
 */
final class E4M3 {
  private static final float[] TABLE = new float[256];

  static {
    for (int code = 0; code < 256; code++) {
      TABLE[code] = compute(code);
    }
  }

  private E4M3() {}

  private static float compute(int code) {
    int sign = (code & 0x80) != 0 ? -1 : 1;
    int exponent = (code >> 3) & 0xF;
    int mantissa = code & 0x7;
    if (exponent == 0xF && mantissa == 0x7) {
      return Float.NaN;
    }
    if (exponent == 0) {
      return sign * Math.scalb(mantissa / 8f, -6);
    }
    return sign * Math.scalb(1 + mantissa / 8f, exponent - 7);
  }

  /** The exact value of a code. */
  static float decode(byte code) {
    return TABLE[code & 0xFF];
  }
}
