package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import java.util.List;
import jdk.incubator.vector.FloatVector;

/**
 * Kernels on the Vector API ({@code jdk.incubator.vector}): projections as a packed GEMM over
 * {@link RowBlocks} ({@link RowBlockMatmul}), their row blocks split over the {@link WorkerPool};
 * {@code dot} and {@code axpy} in {@link Dot16}'s and a lane-wise order. Only load this class when
 * the module is present ({@link Backends}).
 *
 * <p>Every result is the scalar reference's, bit for bit: the same fused multiply-adds in the
 * same order, whatever the vector width (AVX2 or AVX-512), the JDK, the batch or the threads.
 */
public final class VectorBackend extends CpuBackend {
  /**
   * Rows of a pass whose attention one job computes, so that a sequence's rows read each block of
   * its cache once for all of them ({@link AttentionTiles#rows}): a prompt's 2048-position cache
   * is 2.4 MB a layer, past L2. Four rows against one: attention at 2048 positions 1.03-1.04x
   * (one and two threads), at 512 the same; eight no faster than four.
   */
  private static final int ATTENTION_ROWS = 4;

  public VectorBackend(int threads) {
    super(threads);
  }

  @Override
  public String name() {
    return "vector(" + F.vectorBitSize() + " bit)";
  }

  /** Lays out each matrix's row blocks, one matrix per index of the pool. */
  @Override
  public void prepare(List<WeightMatrix> weights) {
    pool().parallelFor(weights.size(), i -> weights.get(i).blocks());
  }

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    RowBlocks blocks = w.blocks();
    int n = blocks.blocks();
    boolean tiles = RowBlockMatmul.supported();
    // where the pair tile runs, chunks of whole pairs of blocks, so that no chunk splits a pair
    int unit = tiles && RowBlockMatmul.pairs(w.encoding(), tokens) ? 2 : 1;
    int chunks = RowSplit.blockChunks((n + unit - 1) / unit, (long) w.rows() * w.cols() * tokens, threads());
    pool().parallelFor(chunks, c -> {
      int b0 = RowSplit.blockStart(c, chunks, n, unit);
      int b1 = RowSplit.blockStart(c + 1, chunks, n, unit);
      if (tiles) {
        RowBlockMatmul.blocks(blocks, x, tokens, y, b0, b1);
      } else {
        RowBlockMatmul.blocksScalar(blocks, x, tokens, y, b0, b1);
      }
    });
  }

  /**
   * As {@link CpuBackend#matmulPerHead}, one task per head, each head's slice of the rows read and
   * written where it lies (the tiles take the rows' strides) rather than copied into a scratch
   * array and back: a 512-token prefill 1.025x (median pair ratio of 20 alternated passes in one
   * process, JDK 25), where the copies took 1.2% of it.
   */
  @Override
  public void matmulPerHead(WeightMatrix[] w, Activations x, HeadLayout in, int tokens, Activations y, HeadLayout out) {
    if (!RowBlockMatmul.supported()) {
      super.matmulPerHead(w, x, in, tokens, y, out);
      return;
    }
    float[] xs = HostActivations.of(x);
    float[] ys = HostActivations.of(y);
    pool().parallelFor(w.length, h -> {
      RowBlocks blocks = w[h].blocks();
      RowBlockMatmul.blocks(blocks, xs, in.at(0, h, 0), in.rowStride(), tokens, ys, out.at(0, h, 0), out.rowStride(), 0,
          blocks.blocks());
    });
  }

  /**
   * The reference's bits in vector lanes: a product, then a sum, each rounded as the scalar
   * expression rounds it. The MoE combine of 512 tokens x 6 experts x 1024 columns 2.4x faster
   * than the scalar loops on JDK 25, 1.9x on JDK 17 (one and two threads); it took 1.8% of a
   * 512-token prefill.
   */
  @Override
  void addScaled(float[] y, float[] src, int at, float w, int from, int to) {
    FloatVector weight = FloatVector.broadcast(F, w);
    int i = from;
    for (int bound = from + F.loopBound(to - from); i < bound; i += L) {
      FloatVector.fromArray(F, src, at + i).mul(weight).add(FloatVector.fromArray(F, y, i)).intoArray(y, i);
    }
    super.addScaled(y, src, at, w, i, to);
  }

  /**
   * The reference's bits in vector lanes ({@link #addScaled}). One loop for each case, so that no
   * vector is assigned on one path only (a merge of two vectors is where JDK 17's C2 boxes).
   */
  @Override
  void addFeedForward(float[] h, int at, float[] y, float[] s, int from, int to) {
    int i = from;
    int bound = from + F.loopBound(to - from);
    if (s == null) {
      for (; i < bound; i += L) {
        FloatVector.fromArray(F, h, at + i).add(FloatVector.fromArray(F, y, i)).intoArray(h, at + i);
      }
    } else {
      for (; i < bound; i += L) {
        FloatVector ffn = FloatVector.fromArray(F, y, i).add(FloatVector.fromArray(F, s, at + i));
        FloatVector.fromArray(F, h, at + i).add(ffn).intoArray(h, at + i);
      }
    }
    super.addFeedForward(h, at, y, s, i, to);
  }

  /** The reference's bits, in vector lanes ({@link SiluTiles}). */
  @Override
  void siluMultiply(float[] g, float[] u, int from, int to) {
    SiluTiles.siluMultiply(g, u, from, to);
  }

  /**
   * As {@link CpuBackend#latentAttention}, four heads of a row or every head of up to {@link
   * #ATTENTION_ROWS} rows of a sequence at a time ({@link AttentionTiles}).
   */
  @Override
  public void latentAttention(
      Activations queryLatent, Activations query, HeadLayout queryRope, int heads, int rank, int ropeDim, float scale,
      CacheRows cache, Activations out) {
    if (L != 16 && L != 8) {
      super.latentAttention(queryLatent, query, queryRope, heads, rank, ropeDim, scale, cache, out);
      return;
    }
    float[] ql = HostActivations.of(queryLatent);
    float[] q = HostActivations.of(query);
    float[] o = HostActivations.of(out);
    int rows = cache.rows();
    if (rows < 2 * pool().threads()) { // a job per four heads of a row
      int tiles = (heads + 3) / 4;
      pool().parallelFor(rows * tiles, job -> {
        int i = job / tiles;
        int h0 = (job % tiles) * 4;
        AttentionTiles.rows(ql, q, queryRope, heads, rank, ropeDim, scale, HostActivations.of(cache.latents()[i]),
            HostActivations.of(cache.ropeKeys()[i]), null, -1, cache.positions(), i, 1, h0, Math.min(4, heads - h0), o);
      });
      return;
    }
    // else a job per ATTENTION_ROWS rows and every head (the heads and the rows of a sequence share
    // the cache's reads); on AVX2 a prefill's keys packed once for all its jobs
    KeyPanels panels = L == 8 ? KeyPanels.pack(cache, rank, ropeDim, pool()) : null;
    pool().parallelFor((rows + ATTENTION_ROWS - 1) / ATTENTION_ROWS, job -> {
      int end = Math.min(rows, (job + 1) * ATTENTION_ROWS);
      for (int i = job * ATTENTION_ROWS, j; i < end; i = j) {
        j = sequenceEnd(cache, i, end);
        AttentionTiles.rows(ql, q, queryRope, heads, rank, ropeDim, scale, HostActivations.of(cache.latents()[i]),
            HostActivations.of(cache.ropeKeys()[i]), panels == null ? null : panels.floats(),
            panels == null ? -1 : panels.at()[i], cache.positions(), i, j - i, 0, heads, o);
      }
    });
  }

  /** The end of the run of rows from {@code i} (before {@code end}) that share row {@code i}'s cache: one sequence's. */
  private static int sequenceEnd(CacheRows cache, int i, int end) {
    int j = i + 1;
    while (j < end && cache.latents()[j] == cache.latents()[i]) {
      j++;
    }
    return j;
  }

  /**
   * The fixed order of {@link Dot16}: sixteen virtual lanes whatever the vector width (one vector
   * of 16 lanes, or two of 8), then the same tree.
   */
  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    return L == 16 ? Dot16.vector16(a, aOffset, b, bOffset, n)
        : L == 8 ? Dot16.vector8(a, aOffset, b, bOffset, n) : Dot16.scalar(a, aOffset, b, bOffset, n);
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    int vectorEnd = (n / L) * L;
    FloatVector a = FloatVector.broadcast(F, alpha);
    for (int i = 0; i < vectorEnd; i += L) {
      a.fma(FloatVector.fromArray(F, x, xOffset + i), FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
    }
    // remaining entries: the same fused multiply-add per element
    for (int i = vectorEnd; i < n; i++) {
      y[yOffset + i] = Math.fma(alpha, x[xOffset + i], y[yOffset + i]);
    }
  }
}
