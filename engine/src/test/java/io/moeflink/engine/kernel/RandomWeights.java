package io.moeflink.engine.kernel;

import io.moeflink.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** Random weight matrices in every stored dtype, for the kernel tests of each backend. */
public final class RandomWeights {
  /** The element types {@link #matrix} draws: the weight dtypes of DeepSeek-V3 checkpoints. */
  public static final java.util.List<DType> DTYPES = java.util.List.of(DType.F32, DType.BF16, DType.F8_E4M3);

  private RandomWeights() {}

  /**
   * A {@code [rows, cols]} matrix of random stored values: F32 and BF16 Gaussian with sigma 0.1,
   * FP8 uniform over every finite code (subnormals included) with random block scales.
   */
  public static WeightMatrix matrix(DType dtype, int rows, int cols, Random random) {
    int n = rows * cols;
    ByteBuffer b = ByteBuffer.allocateDirect(n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    float[] scales = null;
    for (int i = 0; i < n; i++) {
      float v = (float) random.nextGaussian() * 0.1f;
      switch (dtype) {
        case F32 -> b.putFloat(i * 4, v);
        case BF16 -> b.putShort(i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
        case F8_E4M3 -> {
          int code;
          do {
            code = random.nextInt(256);
          } while ((code & 0x7F) == 0x7F);
          b.put(i, (byte) code);
        }
      }
    }
    if (dtype == DType.F8_E4M3) {
      int blocks = ((rows + 127) / 128) * ((cols + 127) / 128);
      scales = new float[blocks];
      for (int i = 0; i < blocks; i++) {
        scales[i] = (float) Math.abs(random.nextGaussian()) * 1e-3f + 1e-4f;
      }
    }
    return WeightMatrix.ofBytes("random " + dtype, dtype, b, rows, cols, scales);
  }

  /**
   * A {@code [rows, cols]} INT4 or INT8 matrix in the compressed-tensors packed layout: random
   * integers over the whole range, random positive scales per row and group of {@code groupSize}
   * columns, and for asymmetric quantization random zero points.
   */
  public static WeightMatrix intMatrix(int bits, int rows, int cols, int groupSize, boolean symmetric, Random random) {
    int perWord = 32 / bits;
    int words = (cols + perWord - 1) / perWord;
    ByteBuffer packed = ByteBuffer.allocateDirect(rows * words * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      for (int w = 0; w < words; w++) {
        int word = 0;
        for (int j = 0; j < perWord && w * perWord + j < cols; j++) {
          word |= random.nextInt(1 << bits) << (bits * j);
        }
        packed.putInt((r * words + w) * 4, word);
      }
    }
    int groups = (cols + groupSize - 1) / groupSize;
    float[] scales = new float[rows * groups];
    byte[] zeros = symmetric ? null : new byte[rows * groups];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (float) Math.abs(random.nextGaussian()) * 0.02f + 1e-3f;
      if (zeros != null) {
        zeros[i] = (byte) (random.nextInt(1 << bits) - (1 << (bits - 1)));
      }
    }
    return WeightMatrix.ofPacked("random int" + bits, bits, packed, rows, cols, groupSize, scales, zeros);
  }

  /** {@code n} standard Gaussian activations. */
  public static float[] activations(int n, Random random) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return x;
  }
}
