package io.moeflink.engine.kernel;

/**
 * The bit-level FP8 E4M3 decode the kernels use: the code's magnitude bits placed at the top of an
 * F32 mantissa ({@code (code & 0x7F) << 20}) with its sign at bit 31 read as an F32 are the
 * code's value times {@code 2^-120}, exactly (the subnormal codes land on F32 subnormals); a
 * multiplication by the block scale times {@code 2^120} then rounds once, as {@code value * scale}
 * does. The NaN code 0x7F reads as 480; checkpoints never contain it.
 */
final class Fp8Bits {
  private Fp8Bits() {}

  /** The F32 bits of {@code code}'s value times {@code 2^-120}. */
  static int bits(int code) {
    return ((code & 0x7F) << 20) | ((code & 0x80) << 24);
  }

  /** {@code code}'s value times {@code 2^-120}, exactly. */
  static float value(byte code) {
    return Float.intBitsToFloat(bits(code));
  }
}
