package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API backend against the scalar reference, per dtype and shape. Tolerance: the two
 * sum in different orders, so each output may differ by a few float32 roundings of the partial
 * sums: {@code 1e-5 * sum_c |W[r][c] * x[c]|} (relative to the magnitude actually summed).
 */
class KernelBackendTest {
  private static final double RELATIVE_TOLERANCE = 1e-5;

  static Stream<Arguments> shapes() {
    return Stream.of(DType.BF16, DType.F8_E4M3, DType.F32).flatMap(t -> Stream.of(
        Arguments.of(t, 1, 64, 1),
        Arguments.of(t, 37, 130, 3), // partial FP8 blocks and vector tails in both directions
        Arguments.of(t, 200, 256, 5),
        Arguments.of(t, 129, 300, 9),
        Arguments.of(t, 64, 1024, 16)));
  }

  @ParameterizedTest(name = "{0} [{1} x {2}] x {3} tokens")
  @MethodSource("shapes")
  void vectorMatchesScalar(DType dtype, int rows, int cols, int tokens) {
    Random random = new Random(rows * 31L + cols * 7L + tokens);
    WeightMatrix w = randomMatrix(dtype, rows, cols, random);
    float[] x = new float[tokens * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    float[] expected = new float[tokens * rows];
    float[] actual = new float[tokens * rows];
    try (ScalarBackend scalar = new ScalarBackend(1); VectorBackend vector = new VectorBackend(2)) {
      scalar.matmul(w, x, tokens, expected);
      vector.matmul(w, x, tokens, actual);
    }
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        double magnitude = 0;
        for (int c = 0; c < cols; c++) {
          magnitude += Math.abs((double) w.get(r, c) * x[t * cols + c]);
        }
        assertThat((double) actual[t * rows + r])
            .as("%s [%d x %d] token %d row %d", dtype, rows, cols, t, r)
            .isCloseTo(expected[t * rows + r], org.assertj.core.data.Offset.offset(RELATIVE_TOLERANCE * magnitude + 1e-30));
      }
    }
  }

  /** Row counts whose per-thread chunks are and are not multiples of the kernels' row tiles. */
  static Stream<Arguments> dtypesAndRows() {
    return Stream.of(DType.values()).flatMap(t -> Stream.of(Arguments.of(t, 96), Arguments.of(t, 37), Arguments.of(t, 7)));
  }

  @ParameterizedTest(name = "{0} {1} rows")
  @MethodSource("dtypesAndRows")
  void eachTokenIsComputedIndependentlyOfTheOthers(DType dtype, int rows) {
    Random random = new Random(5);
    int cols = 520;
    WeightMatrix w = randomMatrix(dtype, rows, cols, random);
    float[] x = new float[7 * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    float[] batched = new float[7 * rows];
    try (VectorBackend vector = new VectorBackend(2); VectorBackend single = new VectorBackend(1)) {
      vector.matmul(w, x, 7, batched);
      for (int t = 0; t < 7; t++) {
        float[] alone = new float[rows];
        single.matmul(w, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, alone);
        for (int r = 0; r < rows; r++) {
          assertThat(Float.floatToRawIntBits(batched[t * rows + r])).as("%s token %d row %d", dtype, t, r)
              .isEqualTo(Float.floatToRawIntBits(alone[r]));
        }
      }
    }
  }

  static Stream<DType> dtypes() {
    return Stream.of(DType.values());
  }

  @Test
  void vectorFp8DecodeHandlesEverySubnormalCode() {
    // A one-hot input reads single weights back: the bit-level decode must equal the table.
    int cols = 256;
    ByteBuffer codes = ByteBuffer.allocateDirect(cols).order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < cols; c++) {
      codes.put(c, (byte) (c == 0x7F || c == 0xFF ? 0 : c));
    }
    WeightMatrix w = WeightMatrix.ofBytes("codes", DType.F8_E4M3, codes, 1, cols, new float[] {0.5f, 0.25f});
    try (VectorBackend vector = new VectorBackend(1)) {
      for (int c = 0; c < cols; c++) {
        float[] x = new float[cols];
        x[c] = 1f;
        float[] y = new float[1];
        vector.matmul(w, x, 1, y);
        assertThat(y[0]).as("code 0x%02x", c).isEqualTo(w.get(0, c));
      }
    }
  }

  static WeightMatrix randomMatrix(DType dtype, int rows, int cols, Random random) {
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
}
