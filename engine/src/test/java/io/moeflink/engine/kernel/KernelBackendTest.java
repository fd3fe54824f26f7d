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
 * The Vector API backend against the scalar reference, per dtype and shape, with the tolerance of
 * {@link MatmulReference}.
 */
class KernelBackendTest {
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
    try (VectorBackend vector = new VectorBackend(2)) {
      MatmulReference.assertMatchesScalar(vector, RandomWeights.matrix(dtype, rows, cols, random), tokens, random);
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
    WeightMatrix w = RandomWeights.matrix(dtype, rows, cols, random);
    // every path: small staged blocks for one to four tokens, larger ones from five, groups of four
    // tokens with a remainder of one to three, and rows past the last whole tile
    for (int tokens : new int[] {2, 3, 4, 5, 7, 8, 9, 10, 11, 16, 19}) {
      float[] x = new float[tokens * cols];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      float[] batched = new float[tokens * rows];
      try (VectorBackend vector = new VectorBackend(2); VectorBackend single = new VectorBackend(1)) {
        vector.matmul(w, x, tokens, batched);
        for (int t = 0; t < tokens; t++) {
          float[] alone = new float[rows];
          single.matmul(w, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, alone);
          for (int r = 0; r < rows; r++) {
            assertThat(Float.floatToRawIntBits(batched[t * rows + r]))
                .as("%s token %d of %d, row %d", dtype, t, tokens, r)
                .isEqualTo(Float.floatToRawIntBits(alone[r]));
          }
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
}
