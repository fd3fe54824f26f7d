package io.moeflink.engine.kernel;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The block operations on the Java heap, shared by the scalar and the Vector API backends: plain
 * loops in the model's reference arithmetic around the two kernels a subclass supplies, the
 * host-array {@link #matmul(WeightMatrix, float[], int, float[])} and {@link #dot}/{@link #axpy}.
 * Activations are {@link HostActivations}; uploads and {@link #toHost} share arrays rather than
 * copy them.
 */
abstract class CpuBackend implements KernelBackend {
  /** What one exponential costs against a multiply-add, for splitting element-wise work. */
  private static final long EXP_WORK = 16;

  private final WorkerPool pool;
  private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[2][0]);

  CpuBackend(int threads) {
    this.pool = new WorkerPool(threads);
  }

  // ---- activations

  @Override
  public Activations allocate(int floats) {
    return new HostActivations(new float[floats]);
  }

  @Override
  public Activations upload(float[] values) {
    return new HostActivations(values);
  }

  @Override
  public void write(Activations dst, int dstOffset, float[] src, int srcOffset, int n) {
    System.arraycopy(src, srcOffset, HostActivations.of(dst), dstOffset, n);
  }

  @Override
  public void read(Activations src, int srcOffset, float[] dst, int dstOffset, int n) {
    System.arraycopy(HostActivations.of(src), srcOffset, dst, dstOffset, n);
  }

  @Override
  public float[] toHost(Activations src, int n) {
    float[] values = HostActivations.of(src);
    if (n > values.length) {
      throw new IndexOutOfBoundsException(n + " values requested of a buffer of " + values.length);
    }
    return values;
  }

  @Override
  public void gatherRows(Activations src, int[] rows, int width, Activations dst) {
    float[] s = HostActivations.of(src);
    float[] d = HostActivations.of(dst);
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(s, rows[i] * width, d, i * width, width);
    }
  }

  @Override
  public void scatterRows(Activations src, int[] rows, int width, Activations dst) {
    float[] s = HostActivations.of(src);
    float[] d = HostActivations.of(dst);
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(s, i * width, d, rows[i] * width, width);
    }
  }

  @Override
  public void copy(Activations src, int srcOffset, Activations dst, int dstOffset, int n) {
    System.arraycopy(HostActivations.of(src), srcOffset, HostActivations.of(dst), dstOffset, n);
  }

  // ---- block operations

  @Override
  public void matmul(WeightMatrix w, Activations x, int tokens, Activations y) {
    matmul(w, HostActivations.of(x), tokens, HostActivations.of(y));
  }

  @Override
  public void matmulPerHead(WeightMatrix[] w, Activations x, HeadLayout in, int tokens, Activations y, HeadLayout out) {
    float[] xs = HostActivations.of(x);
    float[] ys = HostActivations.of(y);
    int cols = w[0].cols();
    int rows = w[0].rows();
    // one task per head: the per-head matrices are too small to split by rows
    pool.parallelFor(w.length, h -> {
      float[][] s = scratch(tokens * cols, tokens * rows);
      float[] xh = s[0]; // (tokens, cols) of head h
      float[] yh = s[1]; // (tokens, rows) of head h
      for (int t = 0; t < tokens; t++) {
        System.arraycopy(xs, in.at(t, h, 0), xh, t * cols, cols);
      }
      matmul(w[h], xh, tokens, yh);
      for (int t = 0; t < tokens; t++) {
        System.arraycopy(yh, t * rows, ys, out.at(t, h, 0), rows);
      }
    });
  }

  @Override
  public void rmsNorm(Activations x, RowLayout in, int rows, WeightVector weight, double eps, Activations y, RowLayout out) {
    float[] xs = HostActivations.of(x);
    float[] ys = HostActivations.of(y);
    float[] w = weight.shared();
    int dim = w.length;
    inRanges(rows, dim, (from, to) -> {
      for (int r = from; r < to; r++) {
        int xo = in.at(r, 0);
        int yo = out.at(r, 0);
        double sumSquares = 0;
        for (int i = 0; i < dim; i++) {
          sumSquares += (double) xs[xo + i] * xs[xo + i];
        }
        float inv = (float) (1.0 / Math.sqrt(sumSquares / dim + eps));
        for (int i = 0; i < dim; i++) {
          ys[yo + i] = (xs[xo + i] * inv) * w[i];
        }
      }
    });
  }

  @Override
  public void rotate(Activations v, HeadLayout at, int heads, int rows, Activations angles) {
    float[] vs = HostActivations.of(v);
    float[] a = HostActivations.of(angles);
    int width = a.length / Math.max(rows, 1); // 2 * pairs per row
    inRanges(rows, (long) heads * width, (from, to) -> {
      for (int r = from; r < to; r++) {
        for (int h = 0; h < heads; h++) {
          rotatePairs(vs, at.at(r, h, 0), a, r * width, width / 2);
        }
      }
    });
  }

  /** Rotates {@code pairs} interleaved pairs of {@code v} from {@code offset} by the angles at {@code angleRow}. */
  private static void rotatePairs(float[] v, int offset, float[] angles, int angleRow, int pairs) {
    for (int i = 0; i < pairs; i++) {
      float cos = angles[angleRow + i];
      float sin = angles[angleRow + pairs + i];
      float a = v[offset + 2 * i];
      float b = v[offset + 2 * i + 1];
      v[offset + 2 * i] = a * cos - b * sin;
      v[offset + 2 * i + 1] = a * sin + b * cos;
    }
  }

  @Override
  public void siluMultiply(Activations g, Activations u, int n) {
    float[] gs = HostActivations.of(g);
    float[] us = HostActivations.of(u);
    inRanges(n, EXP_WORK, (from, to) -> siluMultiply(gs, us, from, to));
  }

  /** {@code g[i] = silu(g[i]) * u[i]} over {@code [from, to)}. */
  void siluMultiply(float[] g, float[] u, int from, int to) {
    siluReference(g, u, from, to);
  }

  /** The reference expression, whose bits every form keeps. */
  static void siluReference(float[] g, float[] u, int from, int to) {
    for (int i = from; i < to; i++) {
      float z = g[i];
      g[i] = z / (1f + FloatExp.exp(-z)) * u[i];
    }
  }

  @Override
  public void add(Activations acc, Activations x, int n) {
    float[] a = HostActivations.of(acc);
    float[] b = HostActivations.of(x);
    inRanges(n, 1, (from, to) -> {
      for (int i = from; i < to; i++) {
        a[i] += b[i];
      }
    });
  }

  @Override
  public void routerScores(WeightMatrix gate, Activations x, int tokens, Activations scores) {
    float[] s = HostActivations.of(scores);
    matmul(gate, HostActivations.of(x), tokens, s);
    for (int i = 0, n = tokens * gate.rows(); i < n; i++) {
      s[i] = 1f / (1f + (float) Math.exp(-s[i]));
    }
  }

  @Override
  public void cacheLatents(
      Activations kva, int rank, int ropeDim, WeightVector kvNorm, double eps, Activations angles, CacheRows cache) {
    float[] a = HostActivations.of(angles);
    RowLayout row = RowLayout.packed(rank + ropeDim);
    float[] kv = HostActivations.of(kva);
    for (int i = 0; i < cache.rows(); i++) {
      int p = cache.positions()[i];
      // the norm covers the latent only, never k_pe (golden README, trap 6)
      rmsNorm(kva, new RowLayout(row.at(i, 0), 0), 1, kvNorm, eps, cache.latents()[i], new RowLayout(p * rank, 0));
      rotatePairs(kv, row.at(i, rank), a, i * ropeDim, ropeDim / 2);
      System.arraycopy(kv, row.at(i, rank), HostActivations.of(cache.ropeKeys()[i]), p * ropeDim, ropeDim);
    }
  }

  @Override
  public void latentAttention(
      Activations queryLatent, Activations query, HeadLayout queryRope, int heads, int rank, int ropeDim, float scale,
      CacheRows cache, Activations out) {
    float[] ql = HostActivations.of(queryLatent);
    float[] q = HostActivations.of(query);
    float[] o = HostActivations.of(out);
    pool.parallelFor(cache.rows() * heads, job -> {
      int i = job / heads;
      int h = job % heads;
      int length = cache.positions()[i] + 1;
      float[] latents = HostActivations.of(cache.latents()[i]);
      float[] ropeKeys = HostActivations.of(cache.ropeKeys()[i]);
      float[] scores = scratch(length, 0)[0];
      int qo = (i * heads + h) * rank;
      int ro = queryRope.at(i, h, 0);
      float max = Float.NEGATIVE_INFINITY;
      for (int t = 0; t < length; t++) {
        // one sum over the latent and the rotary key (Dot16's two-segment order)
        scores[t] = Dot16.scalar(ql, qo, latents, t * rank, rank, q, ro, ropeKeys, t * ropeDim, ropeDim) * scale;
        max = Math.max(max, scores[t]);
      }
      float sum = 0f;
      for (int t = 0; t < length; t++) {
        scores[t] = FloatExp.exp(scores[t] - max);
        sum += scores[t];
      }
      Arrays.fill(o, qo, qo + rank, 0f);
      for (int t = 0; t < length; t++) {
        axpy(scores[t] / sum, latents, t * rank, o, qo, rank);
      }
    });
  }

  @Override
  public void combineExperts(Activations hidden, int width, ExpertOutputs experts, Activations shared) {
    float[] h = HostActivations.of(hidden);
    float[] s = shared == null ? null : HostActivations.of(shared);
    int k = experts.k();
    inRanges(experts.tokens(), (long) k * width, (from, to) -> {
      float[] y = new float[width];
      for (int t = from; t < to; t++) {
        Arrays.fill(y, 0f);
        for (int j = 0; j < k; j++) {
          float[] out = experts.sources()[experts.sourceOf()[t * k + j]];
          addScaled(y, out, experts.rowOf()[t * k + j] * width, experts.weights()[t * k + j], 0, width);
        }
        addFeedForward(h, t * width, y, s, 0, width);
      }
    });
  }

  /** {@code y[i] += src[at + i] * w} for {@code i} in {@code [from, to)}: the product rounded, then the sum. */
  void addScaled(float[] y, float[] src, int at, float w, int from, int to) {
    for (int i = from; i < to; i++) {
      y[i] += src[at + i] * w;
    }
  }

  /**
   * {@code h[at + i] += y[i] + s[at + i]} for {@code i} in {@code [from, to)}, or {@code += y[i]}
   * without shared experts ({@code s} null).
   */
  void addFeedForward(float[] h, int at, float[] y, float[] s, int from, int to) {
    for (int i = from; i < to; i++) {
      float ffn = s == null ? y[i] : y[i] + s[at + i];
      h[at + i] += ffn;
    }
  }

  // ---- threads

  @Override
  public void parallelFor(int count, IntConsumer body) {
    pool.parallelFor(count, body);
  }

  @Override
  public int threads() {
    return pool.threads();
  }

  /** The worker pool, for the subclass's matmul. */
  WorkerPool pool() {
    return pool;
  }

  /** Rows {@code [from, to)} of an element-wise or per-row operation. */
  @FunctionalInterface
  private interface RowRange {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over {@code [0, rows)}, split into ranges over the pool when the rows' work
   * ({@code workPerRow} each, in multiply-adds or the like) is large enough (a prefill's norms,
   * SiLU and expert combine), else whole on this thread (a decode step's). Every row is computed
   * as it would be alone, so the split never changes a bit.
   */
  private void inRanges(int rows, long workPerRow, RowRange body) {
    int chunks = RowSplit.chunks(rows, workPerRow * rows, pool.threads());
    if (chunks == 1) {
      body.run(0, rows);
      return;
    }
    pool.parallelFor(chunks, c -> body.run(RowSplit.start(c, chunks, rows), RowSplit.start(c + 1, chunks, rows)));
  }

  /** This thread's two scratch arrays, grown to at least {@code first} and {@code second} floats. */
  private float[][] scratch(int first, int second) {
    float[][] s = scratch.get();
    if (s[0].length < first) {
      s[0] = new float[first];
    }
    if (s[1].length < second) {
      s[1] = new float[second];
    }
    return s;
  }

  @Override
  public void close() {
    pool.close();
  }
}
