package io.moeflink.workbench.modelgen;

import io.moeflink.engine.checkpoint.Fp8E4M3;

/**
 * DeepSeek-V3's FP8 weight quantisation: a {@code [out, in]} matrix is cut into 128x128 blocks
 * (edge blocks partial), each block gets one float32 {@code scale_inv = amax(block) / 448} (1 for
 * an all-zero block, so that no division by zero occurs) and its entries become the E4M3 codes of
 * {@code w / scale_inv}. A reader recovers {@code e4m3(code) * scale_inv}.
 *
 * <p>Scaling each block to the full E4M3 range keeps the relative error of normal codes within
 * 2^-4; only entries below {@code 2^-6} of the block's range land on subnormals.
 */
public final class Fp8BlockQuantizer {

  /** Rows and columns of one quantisation block ({@code weight_block_size}). */
  public static final int BLOCK = 128;

  private Fp8BlockQuantizer() {}

  /**
   * A quantised matrix.
   *
   * @param rows output features
   * @param cols input features
   * @param codes E4M3 codes, row-major {@code (rows, cols)}
   * @param scalesInv per-block multipliers, row-major {@code (ceil(rows/128), ceil(cols/128))}
   */
  public record Quantized(int rows, int cols, byte[] codes, float[] scalesInv) {

    /** The float32 weights a reader recovers: code value times its block's scale. */
    public float[] dequantize() {
      int scaleCols = blocks(cols);
      float[] weights = new float[codes.length];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          float scale = scalesInv[(r / BLOCK) * scaleCols + c / BLOCK];
          weights[r * cols + c] = Fp8E4M3.decode(codes[r * cols + c]) * scale;
        }
      }
      return weights;
    }
  }

  /** Quantises a row-major {@code (rows, cols)} matrix. */
  public static Quantized quantize(float[] weights, int rows, int cols) {
    if (weights.length != (long) rows * cols) {
      throw new IllegalArgumentException(
          "Matrix of "
              + rows
              + "x"
              + cols
              + " needs "
              + (long) rows * cols
              + " values, got "
              + weights.length);
    }
    byte[] codes = new byte[weights.length];
    int scaleCols = blocks(cols);
    float[] scalesInv = new float[blocks(rows) * scaleCols];
    float[] stripe = new float[Math.min(rows, BLOCK) * cols];
    byte[] stripeCodes = new byte[stripe.length];
    float[] stripeScales = new float[scaleCols];
    for (int rowBegin = 0; rowBegin < rows; rowBegin += BLOCK) {
      int stripeRows = Math.min(BLOCK, rows - rowBegin);
      int length = stripeRows * cols;
      System.arraycopy(weights, rowBegin * cols, stripe, 0, length);
      quantizeStripe(stripe, stripeRows, cols, stripeCodes, stripeScales);
      System.arraycopy(stripeCodes, 0, codes, rowBegin * cols, length);
      System.arraycopy(stripeScales, 0, scalesInv, (rowBegin / BLOCK) * scaleCols, scaleCols);
    }
    return new Quantized(rows, cols, codes, scalesInv);
  }

  /** {@code [ceil(rows/128), ceil(cols/128)]}, the shape of a {@code weight_scale_inv} tensor. */
  public static long[] scaleShape(long rows, long cols) {
    return new long[] {blocks(rows), blocks(cols)};
  }

  /**
   * Quantises one stripe of up to 128 rows, row-major {@code (stripeRows, cols)}, into {@code
   * codes} (same layout) and its row of block scales. The generator streams matrices through this
   * so that it never holds more than a stripe.
   */
  static void quantizeStripe(
      float[] stripe, int stripeRows, int cols, byte[] codes, float[] scalesInv) {
    quantizeStripe(stripe, stripeRows, cols, codes, scalesInv, false);
  }

  /**
   * As {@link #quantizeStripe(float[], int, int, byte[], float[])}; with {@code ue8m0} each scale
   * is rounded UP to a power of two (DeepSeek-V3.1's {@code scale_fmt: ue8m0}, an 8-bit exponent),
   * so that no code overflows 448 and the dequantized product is exact.
   */
  static void quantizeStripe(
      float[] stripe, int stripeRows, int cols, byte[] codes, float[] scalesInv, boolean ue8m0) {
    for (int colBegin = 0, block = 0; colBegin < cols; colBegin += BLOCK, block++) {
      int colEnd = Math.min(cols, colBegin + BLOCK);
      float amax = 0;
      for (int r = 0; r < stripeRows; r++) {
        for (int c = colBegin; c < colEnd; c++) {
          amax = Math.max(amax, Math.abs(stripe[r * cols + c]));
        }
      }
      float scaleInv = amax == 0 ? 1f : amax / Fp8E4M3.MAX;
      if (ue8m0) {
        scaleInv = powerOfTwoAtLeast(scaleInv);
      }
      scalesInv[block] = scaleInv;
      for (int r = 0; r < stripeRows; r++) {
        for (int c = colBegin; c < colEnd; c++) {
          codes[r * cols + c] = Fp8E4M3.encode(stripe[r * cols + c] / scaleInv);
        }
      }
    }
  }

  /** The smallest power of two {@code >= x}, for positive normal {@code x}. */
  static float powerOfTwoAtLeast(float x) {
    float down = Math.scalb(1f, Math.getExponent(x));
    return down == x ? x : down * 2;
  }

  private static int blocks(int size) {
    return (size + BLOCK - 1) / BLOCK;
  }

  private static long blocks(long size) {
    return (size + BLOCK - 1) / BLOCK;
  }
}
