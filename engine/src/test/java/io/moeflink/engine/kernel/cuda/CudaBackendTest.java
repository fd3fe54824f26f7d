package io.moeflink.engine.kernel.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.kernel.MatmulReference;
import io.moeflink.engine.kernel.RandomWeights;
import io.moeflink.engine.kernel.WeightMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA matmul kernels against the scalar reference, per dtype and shape. The GPU sums each
 * output in another order (lane-strided chunks, then a butterfly over 32 lanes), so the tolerance
 * is {@link MatmulReference}'s, as for the Vector API backend. Single weights read back through a
 * one-hot input, FP8 subnormal codes included, must be exact. Skipped where no CUDA device is
 * present.
 */
@Tag("gpu")
class CudaBackendTest {
  private static CudaBackend cuda;

  @BeforeAll
  static void open() {
    if (CudaAvailability.probe().available()) {
      cuda = CudaBackend.open(0, 2);
    }
  }

  /** Per test rather than per class, so that each skipped test is reported as skipped. */
  @BeforeEach
  void needsCuda() {
    CudaAvailability probe = CudaAvailability.probe();
    assumeTrue(probe.available(), () -> "no CUDA device: " + probe.problem());
  }

  @AfterAll
  static void close() {
    if (cuda != null) {
      cuda.close();
    }
  }

  static Stream<Arguments> shapes() {
    return Stream.of(DType.BF16, DType.F8_E4M3, DType.F32).flatMap(t -> Stream.of(
        Arguments.of(t, 1, 64, 1),
        Arguments.of(t, 7, 1, 2), // a single column
        Arguments.of(t, 37, 130, 3), // partial FP8 block; columns not a multiple of 4 or 8
        Arguments.of(t, 200, 256, 5),
        Arguments.of(t, 129, 300, 9), // partial row block of scales, two token tiles
        Arguments.of(t, 5, 1000, 8), // a multiple of 4 but not of 8: BF16 loads element-wise
        Arguments.of(t, 3, 2050, 17), // three token tiles, the last of one token
        Arguments.of(t, 257, 129, 33),
        Arguments.of(t, 64, 1024, 16),
        Arguments.of(t, 96, 2048, 1)));
  }

  @ParameterizedTest(name = "{0} [{1} x {2}] x {3} tokens")
  @MethodSource("shapes")
  void matchesScalar(DType dtype, int rows, int cols, int tokens) {
    Random random = new Random(rows * 31L + cols * 7L + tokens);
    assertMatchesScalar(RandomWeights.matrix(dtype, rows, cols, random), tokens, random);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dtypes")
  void aRowViewUsesItsOwnRowsAndTheirScaleBlocks(DType dtype) {
    Random random = new Random(11);
    WeightMatrix w = RandomWeights.matrix(dtype, 300, 200, random);
    assertMatchesScalar(w.rows(100, 60), 3, random); // crosses the scale block boundary at row 128
    assertMatchesScalar(w.rows(250, 50), 1, random);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dtypes")
  void eachTokenIsComputedIndependentlyOfTheOthers(DType dtype) {
    for (int cols : new int[] {520, 523}) { // vector loads and element-wise loads
      Random random = new Random(5);
      int rows = 96;
      int tokens = 19;
      WeightMatrix w = RandomWeights.matrix(dtype, rows, cols, random);
      float[] x = RandomWeights.activations(tokens * cols, random);
      float[] batched = new float[tokens * rows];
      cuda.matmul(w, x, tokens, batched);
      for (int t = 0; t < tokens; t++) {
        float[] alone = new float[rows];
        cuda.matmul(w, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, alone);
        for (int r = 0; r < rows; r++) {
          assertThat(Float.floatToRawIntBits(batched[t * rows + r]))
              .as("%s [%d x %d] token %d row %d: batched %s, alone %s", dtype, rows, cols, t, r, batched[t * rows + r], alone[r])
              .isEqualTo(Float.floatToRawIntBits(alone[r]));
        }
      }
    }
  }

  @Test
  void fp8DecodeHandlesEverySubnormalCode() {
    // A one-hot input reads single weights back: one rounding (code value times scale), as the
    // scalar decode does, so each must be exact; subnormal codes need -ftz=false.
    int cols = 256;
    ByteBuffer codes = ByteBuffer.allocateDirect(cols).order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < cols; c++) {
      codes.put(c, (byte) (c == 0x7F || c == 0xFF ? 0 : c));
    }
    WeightMatrix w = WeightMatrix.ofBytes("codes", DType.F8_E4M3, codes, 1, cols, new float[] {0.5f, 3e-3f});
    float[] x = new float[cols * cols];
    for (int c = 0; c < cols; c++) {
      x[c * cols + c] = 1f;
    }
    float[] y = new float[cols];
    cuda.matmul(w, x, cols, y);
    for (int c = 0; c < cols; c++) {
      assertThat(y[c]).as("code 0x%02x", c).isEqualTo(w.get(0, c));
    }
  }

  @Test
  void uploadsEachMatrixOnce() {
    WeightMatrix w = RandomWeights.matrix(DType.BF16, 64, 128, new Random(3));
    float[] y = new float[64];
    cuda.matmul(w, new float[128], 1, y);
    long resident = cuda.residentBytes();
    cuda.matmul(w, new float[128], 1, y);
    assertThat(cuda.residentBytes()).isEqualTo(resident);
  }

  static Stream<DType> dtypes() {
    return RandomWeights.DTYPES.stream();
  }

  private static void assertMatchesScalar(WeightMatrix w, int tokens, Random random) {
    MatmulReference.assertMatchesScalar(cuda, w, tokens, random);
  }
}
