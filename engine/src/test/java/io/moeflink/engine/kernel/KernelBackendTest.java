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
 * The Vector API backend against the scalar reference, per dtype and shape: the same bits, since
 * both compute each output as one fused multiply-add chain over the columns in order (and within
 * {@link MatmulReference}'s tolerance of the exact sum).
 */
class KernelBackendTest {
  static Stream<Arguments> shapes() {
    return Stream.of(DType.BF16, DType.F8_E4M3, DType.F32).flatMap(t -> Stream.of(
        Arguments.of(t, 1, 64, 1),
        Arguments.of(t, 37, 130, 3), // partial FP8 blocks and vector tails in both directions
        Arguments.of(t, 80, 200, 4), // AVX2: BF16 in registers on each half of a block's rows
        Arguments.of(t, 200, 256, 5),
        Arguments.of(t, 129, 300, 9),
        Arguments.of(t, 96, 384, 12), // widened in registers: a group of eight, then four
        Arguments.of(t, 64, 1024, 16),
        Arguments.of(t, 70, 260, 17), // one past the in-register widening: staged F32
        Arguments.of(t, 544, 300, 1), // one token on pairs of blocks (BF16, FP8) and a single, runs of 128, 128 and 44
        Arguments.of(t, 544, 300, 23), // 17 blocks: pairs and a single; three tiles of five tokens, two of four
        Arguments.of(t, 128, 300, 48), // a prefill expert's tokens: eight tiles of five, two of four
        // several arrays of blocks (BF16: three a 256 KiB array, so a pair spans two), read in place
        Arguments.of(t, 256, 1300, 1),
        Arguments.of(t, 256, 1300, 6)));
  }

  @ParameterizedTest(name = "{0} [{1} x {2}] x {3} tokens")
  @MethodSource("shapes")
  void vectorMatchesScalar(DType dtype, int rows, int cols, int tokens) {
    Random random = new Random(rows * 31L + cols * 7L + tokens);
    try (VectorBackend vector = new VectorBackend(2); ScalarBackend scalar = new ScalarBackend(1)) {
      WeightMatrix w = RandomWeights.matrix(dtype, rows, cols, random);
      MatmulReference.assertMatchesScalar(vector, w, tokens, random);
      float[] x = RandomWeights.activations(tokens * cols, random);
      float[] expected = new float[tokens * rows];
      float[] actual = new float[tokens * rows];
      scalar.matmul(w, x, tokens, expected);
      vector.matmul(w, x, tokens, actual);
      for (int i = 0; i < expected.length; i++) {
        assertThat(Float.floatToRawIntBits(actual[i])).as("%s [%d x %d] x %d tokens, output %d", dtype, rows, cols, tokens, i)
            .isEqualTo(Float.floatToRawIntBits(expected[i]));
      }
    }
  }

  /**
   * Each head's slice of the rows read and written where it lies (strided rows): the bits of the
   * scalar per-head matmul, on the paired tiles of one token, the in-register tiles, the staged
   * tiles of five and four tokens, and a partial last block.
   */
  @ParameterizedTest(name = "{0} 3 heads of [{1} x {2}] x {3} tokens")
  @MethodSource("perHeadShapes")
  void perHeadMatmulReadsEachHeadWhereItLies(DType dtype, int rows, int cols, int tokens) {
    Random random = new Random(rows * 13L + cols * 5L + tokens);
    int heads = 3;
    try (VectorBackend vector = new VectorBackend(2); ScalarBackend scalar = new ScalarBackend(1)) {
      WeightMatrix[] w = new WeightMatrix[heads];
      for (int h = 0; h < heads; h++) {
        w[h] = RandomWeights.matrix(dtype, rows, cols, random);
      }
      HeadLayout in = new HeadLayout(3, heads * (cols + 5), cols + 5); // each head's input from the fourth of its values
      HeadLayout out = new HeadLayout(1, heads * (rows + 2) + 1, rows + 2);
      float[] x = RandomWeights.activations(tokens * heads * (cols + 5) + 3, random);
      Activations expected = scalar.allocate(tokens * out.rowStride() + 1);
      Activations actual = vector.allocate(tokens * out.rowStride() + 1);
      scalar.matmulPerHead(w, scalar.upload(x.clone()), in, tokens, expected, out);
      vector.matmulPerHead(w, vector.upload(x.clone()), in, tokens, actual, out);
      float[] e = scalar.toHost(expected, tokens * out.rowStride() + 1);
      float[] a = vector.toHost(actual, tokens * out.rowStride() + 1);
      for (int i = 0; i < e.length; i++) {
        assertThat(Float.floatToRawIntBits(a[i])).as("%s [%d x %d] x %d tokens, element %d", dtype, rows, cols, tokens, i)
            .isEqualTo(Float.floatToRawIntBits(e[i]));
      }
    }
  }

  static Stream<Arguments> perHeadShapes() {
    return Stream.of(DType.BF16, DType.F8_E4M3, DType.F32).flatMap(t -> Stream.of(
        Arguments.of(t, 128, 256, 1), Arguments.of(t, 64, 200, 6), Arguments.of(t, 256, 128, 23),
        Arguments.of(t, 80, 130, 48)));
  }

  static Stream<Arguments> intShapes() {
    return Stream.of(4, 8).flatMap(bits -> Stream.of(
        Arguments.of(bits, 37, 64, 32, true, 3),
        Arguments.of(bits, 64, 256, 32, false, 5),
        Arguments.of(bits, 70, 384, 128, true, 1),
        Arguments.of(bits, 33, 128, 128, false, 9), // one group per row: per-channel
        Arguments.of(bits, 96, 520, 8, false, 17),
        Arguments.of(bits, 64, 200, 32, true, 12), // eight, then four tokens, widened in registers
        Arguments.of(bits, 45, 700, 96, false, 2), // groups across the staged runs of 128 columns
        Arguments.of(bits, 448, 1300, 128, false, 1), // blocks in several arrays, read in place
        Arguments.of(bits, 448, 1300, 128, true, 4)));
  }

  @ParameterizedTest(name = "INT{0} [{1} x {2}] groups of {3}, symmetric {4}, {5} tokens")
  @MethodSource("intShapes")
  void integerWeightsAreDecodedInTheKernelsWithTheScalarBits(
      int bits, int rows, int cols, int groupSize, boolean symmetric, int tokens) {
    Random random = new Random(bits * 1000L + rows + cols + tokens);
    WeightMatrix w = RandomWeights.intMatrix(bits, rows, cols, groupSize, symmetric, random);
    assertThat(w.encoding()).isEqualTo(bits == 4 ? WeightEncoding.INT4 : WeightEncoding.INT8);
    assertThat(w.bytes()).isEqualTo((long) rows * cols * bits / 8);
    try (VectorBackend vector = new VectorBackend(2); ScalarBackend scalar = new ScalarBackend(1)) {
      MatmulReference.assertMatchesScalar(vector, w, tokens, random);
      float[] x = RandomWeights.activations(tokens * cols, random);
      float[] expected = new float[tokens * rows];
      float[] actual = new float[tokens * rows];
      scalar.matmul(w, x, tokens, expected);
      vector.matmul(w, x, tokens, actual);
      for (int i = 0; i < expected.length; i++) {
        assertThat(Float.floatToRawIntBits(actual[i])).as("INT%d output %d", bits, i)
            .isEqualTo(Float.floatToRawIntBits(expected[i]));
      }
      // single weights read back through one-hot inputs are the dequantized values, exactly
      for (int c : new int[] {0, 1, cols / 2, cols - 1}) {
        float[] hot = new float[cols];
        hot[c] = 1f;
        float[] column = new float[rows];
        vector.matmul(w, hot, 1, column);
        for (int r = 0; r < rows; r++) {
          assertThat(column[r]).as("INT%d (%d, %d)", bits, r, c).isEqualTo(w.get(r, c));
        }
      }
    }
  }

  @Test
  void dotAndAxpyAreTheScalarBits() {
    Random random = new Random(9);
    try (VectorBackend vector = new VectorBackend(1); ScalarBackend scalar = new ScalarBackend(1)) {
      for (int n : new int[] {1, 7, 15, 16, 17, 31, 32, 33, 100, 512, 515}) {
        float[] a = RandomWeights.activations(n + 2, random);
        float[] b = RandomWeights.activations(n + 1, random);
        assertThat(Float.floatToRawIntBits(vector.dot(a, 2, b, 1, n))).as("dot of %d", n)
            .isEqualTo(Float.floatToRawIntBits(scalar.dot(a, 2, b, 1, n)));
        float[] y1 = b.clone();
        float[] y2 = b.clone();
        vector.axpy(-0.7f, a, 2, y1, 1, n);
        scalar.axpy(-0.7f, a, 2, y2, 1, n);
        for (int i = 0; i < y1.length; i++) {
          assertThat(Float.floatToRawIntBits(y1[i])).as("axpy of %d at %d", n, i).isEqualTo(Float.floatToRawIntBits(y2[i]));
        }
      }
    }
  }

  /**
   * The vector SiLU is the scalar expression's bits: on inputs at and past the ends of the
   * exponential's range ({@code FloatExp}), NaN and infinities, on a wide random spread, and on a
   * vector's tail.
   */
  @Test
  void siluMultiplyIsTheScalarBits() {
    float[] special = {0f, -0f, 1e-45f, -1e-45f, 86.99f, -86.99f, 87.33f, -87.33f, 87.34f, -87.34f, 88.37f, -88.37f,
        88.38f, -88.38f, 103.9f, -103.9f, 200f, -200f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN};
    Random random = new Random(17);
    int n = 40_001; // split over both threads, with a tail
    float[] g = new float[n];
    float[] u = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = i < special.length ? special[i] : (float) (random.nextGaussian() * (i % 3 == 0 ? 40 : 4));
      u[i] = (float) random.nextGaussian();
    }
    try (VectorBackend vector = new VectorBackend(2); ScalarBackend scalar = new ScalarBackend(1)) {
      Activations actual = vector.upload(g.clone());
      vector.siluMultiply(actual, vector.upload(u.clone()), n);
      Activations expected = scalar.upload(g.clone());
      scalar.siluMultiply(expected, scalar.upload(u.clone()), n);
      float[] a = vector.toHost(actual, n);
      float[] e = scalar.toHost(expected, n);
      for (int i = 0; i < n; i++) {
        assertThat(Float.floatToRawIntBits(a[i])).as("silu(%s) * %s at %d", g[i], u[i], i)
            .isEqualTo(Float.floatToRawIntBits(e[i]));
      }
    }
  }

  /**
   * The tiled attention computes the scalar loop's bits, long contexts included (blocks of
   * positions), both when a job is four heads of a row (three rows on two threads) and when it is
   * every head of up to four rows (five or more rows), rows of two sequences in one job included
   * (from the sixth row on, a second sequence's cache), on AVX2 with the keys of a sequence of four
   * or more rows packed ({@link KeyPanels}) and those of one with two rows not.
   */
  @ParameterizedTest
  @MethodSource("attentionRows")
  void latentAttentionIsTheScalarBits(int[] positions, int rank, int dr) {
    Random random = new Random(13);
    int heads = 5; // a tile of four and one of one
    float[] history = RandomWeights.activations(301 * (rank + dr), random);
    float[] ql = RandomWeights.activations(positions.length * heads * rank, random);
    float[] q = RandomWeights.activations(positions.length * heads * (16 + dr), random);
    HeadLayout ropeAt = new HeadLayout(16, heads * (16 + dr), 16 + dr);
    float[] other = RandomWeights.activations(301 * (rank + dr), random);
    int second = Math.min(5, positions.length); // rows from here attend to the second sequence's cache
    float[][] results = new float[2][];
    int b = 0;
    for (KernelBackend k : new KernelBackend[] {new ScalarBackend(2), new VectorBackend(2)}) {
      try (k) {
        Activations latentA = k.upload(java.util.Arrays.copyOf(history, 301 * rank));
        Activations ropeA = k.upload(java.util.Arrays.copyOfRange(history, 301 * rank, 301 * (rank + dr)));
        Activations latentB = k.upload(java.util.Arrays.copyOf(other, 301 * rank));
        Activations ropeB = k.upload(java.util.Arrays.copyOfRange(other, 301 * rank, 301 * (rank + dr)));
        Activations[] latents = new Activations[positions.length];
        Activations[] ropeKeys = new Activations[positions.length];
        java.util.Arrays.fill(latents, 0, second, latentA);
        java.util.Arrays.fill(ropeKeys, 0, second, ropeA);
        java.util.Arrays.fill(latents, second, positions.length, latentB);
        java.util.Arrays.fill(ropeKeys, second, positions.length, ropeB);
        CacheRows cache = new CacheRows(latents, ropeKeys, positions);
        Activations out = k.allocate(positions.length * heads * rank);
        k.latentAttention(k.upload(ql.clone()), k.upload(q.clone()), ropeAt, heads, rank, dr, 0.2f, cache, out);
        results[b++] = k.toHost(out, positions.length * heads * rank).clone();
      }
    }
    for (int i = 0; i < results[0].length; i++) {
      assertThat(Float.floatToRawIntBits(results[1][i])).as("attention output %d", i)
          .isEqualTo(Float.floatToRawIntBits(results[0][i]));
    }
  }

  /**
   * Rows at long and short positions; rank 48 (not a multiple of 32: the weighted sum's remaining
   * columns) with a rotary part of 8 (a masked tail in the scores), and rank 80 (over 128
   * positions four vectors of columns, then one) with 16 (whole vectors).
   */
  static Stream<Arguments> attentionRows() {
    return Stream.of(new int[] {48, 8}, new int[] {80, 16}).flatMap(dims -> Stream.of(
        Arguments.of(new int[] {299, 300, 0}, dims[0], dims[1]),
        Arguments.of(new int[] {299, 300, 0, 31, 64}, dims[0], dims[1]),
        Arguments.of(new int[] {299, 300, 0, 31, 64, 5, 7}, dims[0], dims[1]),
        Arguments.of(new int[] {126, 127, 128, 129, 130, 3, 200, 201, 202, 203, 0}, dims[0], dims[1])));
  }

  /** Row counts whose per-thread chunks are and are not multiples of the kernels' row tiles. */
  static Stream<Arguments> dtypesAndRows() {
    return RandomWeights.DTYPES.stream().flatMap(t -> Stream.of(Arguments.of(t, 96), Arguments.of(t, 37), Arguments.of(t, 7)));
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

  @Test
  void pairTilesOfFiveAndFourTakeEveryCountFromTwelve() {
    for (int tokens = 5; tokens <= 300; tokens++) {
      int fours = RowBlockMatmul.pairFours(tokens);
      int fives = (tokens - 4 * fours) / 5;
      int left = tokens - 5 * fives - 4 * fours;
      assertThat(left).as("%d tokens: %d fives, %d fours", tokens, fives, fours).isBetween(0, tokens >= 12 ? 0 : 3);
    }
  }

  static Stream<DType> dtypes() {
    return RandomWeights.DTYPES.stream();
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
