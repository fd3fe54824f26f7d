package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.assertj.core.data.Offset;

/**
 * Checks a backend's matmul against {@link ScalarBackend}. Backends sum in different orders, so
 * each output may differ by a few float32 roundings of the partial sums: the tolerance is {@link
 * #RELATIVE_TOLERANCE} times {@code sum_c |W[r][c] * x[c]|}, the magnitude actually summed.
 */
public final class MatmulReference {
  /** Relative to the summed magnitude of each output. */
  public static final double RELATIVE_TOLERANCE = 1e-5;

  private MatmulReference() {}

  /** Multiplies Gaussian activations of {@code tokens} tokens by {@code w} on both backends. */
  public static void assertMatchesScalar(KernelBackend backend, WeightMatrix w, int tokens, Random random) {
    int rows = w.rows();
    int cols = w.cols();
    float[] x = RandomWeights.activations(tokens * cols, random);
    float[] expected = new float[tokens * rows];
    float[] actual = new float[tokens * rows];
    try (ScalarBackend scalar = new ScalarBackend(1)) {
      scalar.matmul(w, x, tokens, expected);
    }
    backend.matmul(w, x, tokens, actual);
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        double magnitude = 0;
        for (int c = 0; c < cols; c++) {
          magnitude += Math.abs((double) w.get(r, c) * x[t * cols + c]);
        }
        assertThat((double) actual[t * rows + r])
            .as("%s %s [%d x %d] (first stored row %d) token %d row %d", backend.name(), w.dtype(), rows, cols,
                w.firstStoredRow(), t, r)
            .isCloseTo(expected[t * rows + r], Offset.offset(RELATIVE_TOLERANCE * magnitude + 1e-30));
      }
    }
  }
}
