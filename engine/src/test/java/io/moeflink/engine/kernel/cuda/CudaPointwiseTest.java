package io.moeflink.engine.kernel.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeflink.engine.kernel.RandomWeights;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The element-wise and row kernels against the host arithmetic of the model (written out here as
 * plain loops). Tolerances: RoPE is the same float operations, so bitwise equal; SiLU uses CUDA's
 * double {@code exp} (within 1 ulp of the correctly rounded value, as {@code Math.exp} is), so 2
 * float ulps; RMSNorm sums squares in double in another order, so {@code 1e-6} relative (an ulp or two);
 * softmax sums floats in another order, so {@code 1e-5} relative.
 */
@Tag("gpu")
class CudaPointwiseTest {
  private static CudaBackend cuda;

  @BeforeAll
  static void open() {
    if (CudaAvailability.probe().available()) {
      cuda = CudaBackend.open(0, 1);
    }
  }

  @AfterAll
  static void close() {
    if (cuda != null) {
      cuda.close();
    }
  }

  /** Per test rather than per class, so that each skipped test is reported as skipped. */
  @BeforeEach
  void needsCuda() {
    CudaAvailability probe = CudaAvailability.probe();
    assumeTrue(probe.available(), () -> "no CUDA device: " + probe.problem());
  }

  @Test
  void rmsNormMatchesTheHostFormula() {
    Random random = new Random(1);
    int rows = 9;
    int dim = 1000;
    float[] x = RandomWeights.activations(rows * dim, random);
    float[] weight = RandomWeights.activations(dim, random);
    double eps = 1e-6;
    float[] y = new float[rows * dim];
    cuda.rmsNorm(x, rows, weight, eps, y);
    for (int r = 0; r < rows; r++) {
      double sumSquares = 0;
      for (int i = 0; i < dim; i++) {
        sumSquares += (double) x[r * dim + i] * x[r * dim + i];
      }
      float inv = (float) (1.0 / Math.sqrt(sumSquares / dim + eps));
      for (int i = 0; i < dim; i++) {
        float expected = (x[r * dim + i] * inv) * weight[i];
        assertThat(y[r * dim + i]).as("row %d element %d", r, i)
            .isCloseTo(expected, Offset.offset(1e-6f * Math.abs(expected) + Float.MIN_NORMAL));
      }
    }
  }

  @Test
  void siluAndMultiplyMatchesTheHost() {
    Random random = new Random(2);
    int n = 10_001;
    float[] g = RandomWeights.activations(n, random);
    for (int i = 0; i < n; i += 100) {
      g[i] *= 40; // saturated tails of the sigmoid
    }
    float[] u = RandomWeights.activations(n, random);
    float[] actual = g.clone();
    cuda.siluAndMultiply(actual, u, n);
    for (int i = 0; i < n; i++) {
      float expected = g[i] / (1f + (float) Math.exp(-g[i])) * u[i];
      assertThat(actual[i]).as("element %d (g %s, u %s)", i, g[i], u[i])
          .isCloseTo(expected, Offset.offset(2 * Math.ulp(expected)));
    }
  }

  @Test
  void softmaxRowsSumToOneAndMatchTheHost() {
    Random random = new Random(3);
    int rows = 5;
    int cols = 777;
    float[] x = RandomWeights.activations(rows * cols, random);
    float[] actual = x.clone();
    cuda.softmaxRows(actual, rows, cols);
    for (int r = 0; r < rows; r++) {
      float max = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        max = Math.max(max, x[r * cols + c]);
      }
      float[] e = new float[cols];
      float sum = 0;
      for (int c = 0; c < cols; c++) {
        e[c] = (float) Math.exp(x[r * cols + c] - max);
        sum += e[c];
      }
      for (int c = 0; c < cols; c++) {
        float expected = e[c] / sum;
        assertThat(actual[r * cols + c]).as("row %d column %d", r, c)
            .isCloseTo(expected, Offset.offset(1e-5f * expected + Float.MIN_NORMAL));
      }
    }
  }

  @Test
  void ropeRotatesEachPairLikeTheHost() {
    Random random = new Random(4);
    int rows = 6;
    int stride = 80;
    int offset = 16;
    int pairs = 32;
    float[] v = RandomWeights.activations(rows * stride, random);
    float[] angles = new float[2 * rows * pairs];
    for (int k = 0; k < rows * pairs; k++) {
      double theta = random.nextDouble() * 100;
      angles[k] = (float) Math.cos(theta);
      angles[rows * pairs + k] = (float) Math.sin(theta);
    }
    float[] actual = v.clone();
    cuda.ropeInterleaved(actual, rows, stride, offset, pairs, angles);
    float[] expected = v.clone();
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < pairs; i++) {
        int p = r * stride + offset + 2 * i;
        float c = angles[r * pairs + i];
        float s = angles[rows * pairs + r * pairs + i];
        float a = expected[p];
        float b = expected[p + 1];
        expected[p] = a * c - b * s;
        expected[p + 1] = a * s + b * c;
      }
    }
    assertThat(actual).containsExactly(expected);
  }
}
