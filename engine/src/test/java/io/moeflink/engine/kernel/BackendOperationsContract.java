package io.moeflink.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.checkpoint.DType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every {@link KernelBackend} operation of a backend against the {@link ScalarBackend}, on the
 * backend's own activations: the differential test each backend runs (a subclass supplies it).
 * Sums may run in another order, so results that reduce compare within a tolerance relative to
 * the magnitude summed (as {@link MatmulReference}); data movement compares bit for bit. Failure
 * messages name the backend, the operation and the shape.
 */
public abstract class BackendOperationsContract {
  /** Relative to the magnitude summed, for reductions in another order. */
  private static final double SUM_TOLERANCE = 1e-5;
  /** Relative, for element-wise functions whose exp may round differently (a few ulps). */
  private static final double POINTWISE_TOLERANCE = 1e-6;

  /** The backend under test. */
  protected abstract KernelBackend backend();

  private final ScalarBackend scalar = new ScalarBackend(1);

  private Activations on(KernelBackend k, float[] values) {
    return k.upload(values.clone());
  }

  private static float[] back(KernelBackend k, Activations a) {
    float[] out = new float[a.length()];
    k.read(a, 0, out, 0, out.length);
    return out;
  }

  private void assertClose(float[] actual, float[] expected, double relative, double absolute, String what) {
    assertThat(actual).as("%s %s: length", backend().name(), what).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i])
          .as("%s %s at %d", backend().name(), what, i)
          .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(relative * Math.abs(expected[i]) + absolute));
    }
  }

  private void assertSameBits(float[] actual, float[] expected, String what) {
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToRawIntBits(actual[i])).as("%s %s at %d", backend().name(), what, i)
          .isEqualTo(Float.floatToRawIntBits(expected[i]));
    }
  }

  // ---- activations

  @Test
  void allocatedBuffersAreZeroAndRoundTripTheirValues() {
    KernelBackend k = backend();
    try (Activations a = k.allocate(1000)) {
      assertThat(back(k, a)).as("%s allocate", k.name()).containsOnly(0f);
      float[] v = RandomWeights.activations(300, new Random(1));
      k.write(a, 17, v, 5, 200);
      float[] out = new float[210];
      k.read(a, 12, out, 0, 210);
      assertSameBits(Arrays.copyOfRange(out, 5, 205), Arrays.copyOfRange(v, 5, 205), "write/read at offsets");
      assertThat(Arrays.copyOfRange(out, 0, 5)).containsOnly(0f);
    }
    float[] v = RandomWeights.activations(64, new Random(2));
    assertSameBits(Arrays.copyOf(k.toHost(k.upload(v.clone()), 64), 64), v, "upload/toHost");
  }

  @Test
  void gathersScattersAndCopiesRows() {
    KernelBackend k = backend();
    int width = 37;
    float[] src = RandomWeights.activations(6 * width, new Random(3));
    int[] rows = {4, 0, 4, 5};
    Activations s = on(k, src);
    Activations gathered = k.allocate(rows.length * width);
    k.gatherRows(s, rows, width, gathered);
    float[] g = back(k, gathered);
    for (int i = 0; i < rows.length; i++) {
      assertSameBits(Arrays.copyOfRange(g, i * width, (i + 1) * width),
          Arrays.copyOfRange(src, rows[i] * width, (rows[i] + 1) * width), "gather row " + i);
    }
    Activations scattered = k.allocate(8 * width);
    k.scatterRows(on(k, Arrays.copyOf(src, 3 * width)), new int[] {7, 2, 5}, width, scattered);
    float[] sc = back(k, scattered);
    assertSameBits(Arrays.copyOfRange(sc, 7 * width, 8 * width), Arrays.copyOfRange(src, 0, width), "scatter to row 7");
    assertSameBits(Arrays.copyOfRange(sc, 5 * width, 6 * width), Arrays.copyOfRange(src, 2 * width, 3 * width), "scatter to row 5");
    assertThat(Arrays.copyOfRange(sc, 0, 2 * width)).containsOnly(0f);
    Activations copy = k.allocate(100);
    k.copy(s, 10, copy, 3, 50);
    assertSameBits(Arrays.copyOfRange(back(k, copy), 3, 53), Arrays.copyOfRange(src, 10, 60), "copy");
  }

  // ---- projections

  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  void matmulOnActivationsMatchesTheScalarReference(DType dtype) {
    Random random = new Random(dtype.ordinal() + 11);
    WeightMatrix w = RandomWeights.matrix(dtype, 131, 260, random);
    int tokens = 11;
    float[] x = RandomWeights.activations(tokens * 260, random);
    float[] expected = new float[tokens * 131];
    scalar.matmul(w, x, tokens, expected);
    KernelBackend k = backend();
    Activations y = k.allocate(tokens * 131);
    k.matmul(w, on(k, x), tokens, y);
    assertClose(back(k, y), expected, 0, SUM_TOLERANCE * 260 * 0.1 * 4, dtype + " matmul [131 x 260] x 11");
    float[] hostY = new float[tokens * 131];
    k.matmul(w, x, tokens, hostY);
    assertClose(hostY, expected, 0, SUM_TOLERANCE * 260 * 0.1 * 4, dtype + " host-array matmul");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  void perHeadMatmulReadsAndWritesEachHeadsSlice(DType dtype) {
    Random random = new Random(dtype.ordinal() + 21);
    int heads = 3;
    int tokens = 5;
    int cols = 48;
    int rows = 16;
    // the heads are row views of one tensor, as MLA's value up-projection is of kv_b_proj
    WeightMatrix all = RandomWeights.matrix(dtype, heads * (rows + 8), cols, random);
    WeightMatrix[] w = new WeightMatrix[heads];
    for (int h = 0; h < heads; h++) {
      w[h] = all.rows(h * (rows + 8) + 8, rows);
    }
    HeadLayout in = new HeadLayout(2, heads * 64, 64); // a head's input is 48 of its 64 values, from the third
    HeadLayout out = HeadLayout.packed(heads, rows);
    float[] x = RandomWeights.activations(tokens * heads * 64 + 2, random);
    float[] expected = new float[tokens * heads * rows];
    Activations ex = scalar.upload(x.clone());
    Activations ey = scalar.upload(expected);
    scalar.matmulPerHead(w, ex, in, tokens, ey, out);
    KernelBackend k = backend();
    Activations y = k.allocate(tokens * heads * rows);
    k.matmulPerHead(w, on(k, x), in, tokens, y, out);
    assertClose(back(k, y), expected, 0, SUM_TOLERANCE * cols * 0.1 * 4, dtype + " per-head matmul, 3 heads of [16 x 48]");
    // and each head's slice is that head's own matmul
    float[] xh = new float[tokens * cols];
    float[] yh = new float[tokens * rows];
    for (int t = 0; t < tokens; t++) {
      System.arraycopy(x, in.at(t, 1, 0), xh, t * cols, cols);
    }
    scalar.matmul(w[1], xh, tokens, yh);
    for (int t = 0; t < tokens; t++) {
      assertSameBits(Arrays.copyOfRange(expected, out.at(t, 1, 0), out.at(t, 1, rows)),
          Arrays.copyOfRange(yh, t * rows, (t + 1) * rows), "scalar head 1 token " + t);
    }
  }

  // ---- element-wise and row operations

  @Test
  void rmsNormMatchesTheScalarReferenceStridedAndInPlace() {
    Random random = new Random(31);
    int dim = 100;
    int rows = 5;
    float[] x = RandomWeights.activations(rows * 130 + 7, random);
    WeightVector w = new WeightVector("norm", RandomWeights.activations(dim, random));
    RowLayout in = new RowLayout(7, 130);
    RowLayout out = new RowLayout(3, 110);
    Activations ey = scalar.allocate(3 + rows * 110);
    scalar.rmsNorm(scalar.upload(x.clone()), in, rows, w, 1e-6, ey, out);
    KernelBackend k = backend();
    Activations y = k.allocate(3 + rows * 110);
    k.rmsNorm(on(k, x), in, rows, w, 1e-6, y, out);
    assertClose(back(k, y), scalar.toHost(ey, 3 + rows * 110), POINTWISE_TOLERANCE, 1e-7, "rmsNorm strided");
    float[] packed = Arrays.copyOf(x, rows * dim);
    Activations inPlace = on(k, packed);
    k.rmsNorm(inPlace, RowLayout.packed(dim), rows, w, 1e-6, inPlace, RowLayout.packed(dim));
    Activations expectedInPlace = scalar.upload(packed.clone());
    scalar.rmsNorm(expectedInPlace, RowLayout.packed(dim), rows, w, 1e-6, expectedInPlace, RowLayout.packed(dim));
    assertClose(back(k, inPlace), scalar.toHost(expectedInPlace, rows * dim), POINTWISE_TOLERANCE, 1e-7, "rmsNorm in place");
  }

  @Test
  void rotatesEveryHeadOfEveryRowByItsRowsAngles() {
    Random random = new Random(41);
    int rows = 4;
    int heads = 3;
    int pairs = 8;
    float[] v = RandomWeights.activations(rows * heads * 40, random);
    float[] angles = new float[rows * 2 * pairs];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < pairs; i++) {
        double a = random.nextDouble() * 6;
        angles[r * 2 * pairs + i] = (float) Math.cos(a);
        angles[r * 2 * pairs + pairs + i] = (float) Math.sin(a);
      }
    }
    HeadLayout at = new HeadLayout(24, heads * 40, 40); // the last 16 of each head's 40 values
    Activations expected = scalar.upload(v.clone());
    scalar.rotate(expected, at, heads, rows, scalar.upload(angles.clone()));
    KernelBackend k = backend();
    Activations actual = on(k, v);
    k.rotate(actual, at, heads, rows, on(k, angles));
    assertSameBits(back(k, actual), scalar.toHost(expected, v.length), "rotate (the same rounded products and sums)");
  }

  @Test
  void siluMultiplyAddAndRouterScoresMatchTheScalarReference() {
    Random random = new Random(51);
    int n = 777;
    float[] g = RandomWeights.activations(n, random);
    float[] u = RandomWeights.activations(n, random);
    Activations eg = scalar.upload(g.clone());
    scalar.siluMultiply(eg, scalar.upload(u.clone()), n);
    KernelBackend k = backend();
    Activations ag = on(k, g);
    k.siluMultiply(ag, on(k, u), n);
    assertClose(back(k, ag), scalar.toHost(eg, n), POINTWISE_TOLERANCE, 1e-7, "siluMultiply");

    Activations acc = on(k, g);
    k.add(acc, on(k, u), n);
    float[] sum = new float[n];
    for (int i = 0; i < n; i++) {
      sum[i] = g[i] + u[i];
    }
    assertSameBits(back(k, acc), sum, "add");

    WeightMatrix gate = RandomWeights.matrix(DType.BF16, 16, 64, random);
    float[] x = RandomWeights.activations(3 * 64, random);
    Activations es = scalar.allocate(3 * 16);
    scalar.routerScores(gate, scalar.upload(x.clone()), 3, es);
    Activations as = k.allocate(3 * 16);
    k.routerScores(gate, on(k, x), 3, as);
    assertClose(back(k, as), scalar.toHost(es, 48), 1e-5, 1e-6, "routerScores (sigmoid of the gate)");
    for (float s : back(k, as)) {
      assertThat(s).as("%s affinity", k.name()).isBetween(0f, 1f);
    }
  }

  // ---- MLA

  /** Two sequences' caches: one with 5 cached positions, one empty. */
  private CacheRows caches(KernelBackend k, int rank, int dr, float[] history, int[] positions) {
    Activations latentA = k.allocate(16 * rank);
    Activations ropeA = k.allocate(16 * dr);
    k.write(latentA, 0, history, 0, 5 * rank);
    k.write(ropeA, 0, history, 5 * rank, 5 * dr);
    Activations latentB = k.allocate(16 * rank);
    Activations ropeB = k.allocate(16 * dr);
    Activations[] latents = new Activations[positions.length];
    Activations[] ropes = new Activations[positions.length];
    for (int i = 0; i < positions.length; i++) {
      latents[i] = i < 2 ? latentA : latentB;
      ropes[i] = i < 2 ? ropeA : ropeB;
    }
    return new CacheRows(latents, ropes, positions);
  }

  @Test
  void cachesLatentsAndAttendsOverThemLikeTheScalarReference() {
    Random random = new Random(61);
    int rank = 64;
    int dr = 16;
    int heads = 4;
    // rows 0-1: positions 5 and 6 of sequence A (5 cached); rows 2-4: positions 0-2 of sequence B
    int[] positions = {5, 6, 0, 1, 2};
    int rows = positions.length;
    float[] history = RandomWeights.activations(5 * (rank + dr), random);
    float[] kva = RandomWeights.activations(rows * (rank + dr), random);
    float[] angles = new float[rows * dr];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < dr / 2; i++) {
        angles[r * dr + i] = (float) Math.cos(positions[r] * (i + 1) * 0.1);
        angles[r * dr + dr / 2 + i] = (float) Math.sin(positions[r] * (i + 1) * 0.1);
      }
    }
    WeightVector norm = new WeightVector("kv norm", RandomWeights.activations(rank, random));
    float[] queryLatent = RandomWeights.activations(rows * heads * rank, random);
    float[] query = RandomWeights.activations(rows * heads * 40, random);
    HeadLayout ropeAt = new HeadLayout(24, heads * 40, 40);

    CacheRows expectedCache = caches(scalar, rank, dr, history, positions);
    Activations expectedKva = scalar.upload(kva.clone());
    scalar.cacheLatents(expectedKva, rank, dr, norm, 1e-6, scalar.upload(angles.clone()), expectedCache);
    Activations expectedOut = scalar.allocate(rows * heads * rank);
    scalar.latentAttention(scalar.upload(queryLatent.clone()), scalar.upload(query.clone()), ropeAt, heads, rank, dr,
        0.125f, expectedCache, expectedOut);

    KernelBackend k = backend();
    CacheRows cache = caches(k, rank, dr, history, positions);
    Activations actualKva = on(k, kva);
    k.cacheLatents(actualKva, rank, dr, norm, 1e-6, on(k, angles), cache);
    assertClose(back(k, cache.latents()[0]), scalar.toHost(expectedCache.latents()[0], 16 * rank), POINTWISE_TOLERANCE,
        1e-7, "cached latents of sequence A");
    assertClose(back(k, cache.latents()[2]), scalar.toHost(expectedCache.latents()[2], 16 * rank), POINTWISE_TOLERANCE,
        1e-7, "cached latents of sequence B");
    assertSameBits(back(k, cache.ropeKeys()[3]), scalar.toHost(expectedCache.ropeKeys()[3], 16 * dr), "cached k_pe of B");
    assertSameBits(back(k, actualKva), scalar.toHost(expectedKva, kva.length), "kva with k_pe rotated in place");

    Activations out = k.allocate(rows * heads * rank);
    k.latentAttention(on(k, queryLatent), on(k, query), ropeAt, heads, rank, dr, 0.125f, cache, out);
    // softmax weights sum to one, latents are O(1): the outputs' magnitude is that of one latent
    assertClose(back(k, out), scalar.toHost(expectedOut, rows * heads * rank), 1e-4, 1e-5, "latent attention");
  }

  // ---- MoE combine

  @Test
  void combinesExpertsInAscendingOrderThenAddsTheSharedExperts() {
    Random random = new Random(71);
    int width = 33;
    int tokens = 3;
    int k2 = 2;
    float[][] sources = {RandomWeights.activations(4 * width, random), null, RandomWeights.activations(2 * width, random)};
    int[] sourceOf = {0, 2, 0, 0, 2, 0};
    int[] rowOf = {0, 1, 1, 2, 0, 3};
    float[] weights = RandomWeights.activations(tokens * k2, random);
    ExpertOutputs outputs = new ExpertOutputs(tokens, k2, weights, sources, sourceOf, rowOf);
    float[] hidden = RandomWeights.activations(tokens * width, random);
    float[] shared = RandomWeights.activations(tokens * width, random);
    KernelBackend k = backend();
    for (boolean withShared : new boolean[] {false, true}) {
      Activations expected = scalar.upload(hidden.clone());
      scalar.combineExperts(expected, width, outputs, withShared ? scalar.upload(shared.clone()) : null);
      Activations actual = on(k, hidden);
      k.combineExperts(actual, width, outputs, withShared ? on(k, shared) : null);
      assertSameBits(back(k, actual), scalar.toHost(expected, hidden.length),
          "combine " + (withShared ? "with" : "without") + " shared experts (one rounded product and sum each)");
    }
  }

  // ---- host-array kernels

  @Test
  void dotAndAxpyMatchTheScalarReference() {
    Random random = new Random(81);
    KernelBackend k = backend();
    for (int n : new int[] {1, 15, 16, 17, 100, 513}) {
      float[] a = RandomWeights.activations(n + 3, random);
      float[] b = RandomWeights.activations(n + 5, random);
      double magnitude = 0;
      for (int i = 0; i < n; i++) {
        magnitude += Math.abs(a[3 + i] * b[5 + i]);
      }
      assertThat((double) k.dot(a, 3, b, 5, n)).as("%s dot of %d", k.name(), n)
          .isCloseTo(scalar.dot(a, 3, b, 5, n), org.assertj.core.data.Offset.offset(SUM_TOLERANCE * magnitude + 1e-30));
      float[] y = b.clone();
      float[] expected = b.clone();
      k.axpy(0.37f, a, 3, y, 5, n);
      scalar.axpy(0.37f, a, 3, expected, 5, n);
      assertClose(y, expected, 1e-6, 1e-6, "axpy of " + n);
    }
  }

  @Test
  void refusesAnotherBackendsBuffers() {
    KernelBackend k = backend();
    Activations foreign = k instanceof CpuBackend ? new Activations() {
      @Override
      public int length() {
        return 4;
      }

      @Override
      public void close() {}
    } : scalar.allocate(4);
    assertThatThrownBy(() -> k.add(k.allocate(4), foreign, 4))
        .as("%s with a foreign buffer", k.name())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
