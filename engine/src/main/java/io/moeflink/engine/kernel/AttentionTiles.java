package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * MLA's absorbed attention for token rows of one sequence and some or all of their heads, in the
 * order of {@link CpuBackend#latentAttention}: each score one two-segment {@link Dot16} (the
 * latent, then the rotary key), the softmax in position order, each output a fused multiply-add
 * chain over the positions. Four heads share every cached position's loads, the scores of four heads and four
 * positions run as sixteen independent chains on AVX-512 (on AVX2 eight, four heads x two
 * positions, lanes 0-7 and then 8-15; one chain alone waits on its FMA latency), and the
 * cache goes through in blocks of positions that every row and group of four heads reads while
 * they are in L1; each row's bits are the scalar loop's. On AVX2 a job of many queries (every
 * head of a row, or of a prefill's rows) runs both halves as GEMM tiles of six queries, twelve
 * chains of broadcast multiply-adds: the scores against its sequence's {@link KeyPanels} where a
 * prefill packed them ({@link KeyPanel8}), the weighted sum over the latents ({@link #querySums}).
 */
final class AttentionTiles {
  private static final int HEADS = 4;
  /**
   * Positions per block of the cache that every group of four heads reads in turn while it is in
   * L1: 32 KB of latents at rank 256 (36 KB with the rotary keys).
   */
  private static final int POSITIONS = 32;
  /**
   * Cached positions from which the weighted sum runs sixteen chains ({@link #sumBlock4}): below,
   * zeroing the outputs and handing sixteen chains over between blocks cost more than they gained
   * (prefill 4 x 128 ran 0.87x).
   */
  private static final int WIDE_SUM_POSITIONS = 4 * POSITIONS;
  /** Positions of one tile of scores on 512-bit vectors ({@link Dot16#tile44}). */
  private static final int POSITIONS_PER_TILE = 4;
  /**
   * Positions per block of the weighted sum's sixteen chains: each block's slice of 64 columns is
   * copied into this thread's {@link #SLICES} (32 KB, in L1), which every row and group of four
   * heads then reads in turn, and the chains go to memory and back once a block. Read where they
   * lie, latent rows 1 KB apart put a slice in a quarter of L1's sets, so it came from L2: blocks
   * of 512 positions read in place ran 0.93-0.98x as fast on two threads (512-4096 positions; one
   * thread at 1024, 1.04x). Blocks of 32 handed the chains over too often (0.65-0.75x).
   */
  private static final int WIDE_SUM_BLOCK = 128;
  /** Each thread's copy of a block's slice of the latents for the weighted sum, {@code (position, 4L)}. */
  private static final ThreadLocal<float[]> SLICES = ThreadLocal.withInitial(() -> new float[WIDE_SUM_BLOCK * 4 * L]);
  private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[HEADS][0]);
  /** Queries of one tile of {@link #querySums}: six heads of a row or of a prefill's rows. */
  private static final int SUM_QUERIES = 6;
  /**
   * Positions per block of {@link #querySums}: each block's slice of sixteen columns (4 KB) and
   * the six queries' probabilities stay in L1 while every tile reads them.
   */
  private static final int SUM_BLOCK = 64;
  /** Each thread's queries of a job as {@link KeyPanel8}'s tiles read them, and a tile's chains. */
  private static final ThreadLocal<float[]> PANEL_QUERIES = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PANEL_CHAINS = ThreadLocal.withInitial(() -> new float[KeyPanel8.CHAINS]);

  private AttentionTiles() {}

  /**
   * Heads {@code [h0, h0 + n)} of rows {@code [i0, i0 + count)}, which share one sequence's cache
   * ({@code latents}, {@code ropeKeys}); row {@code i} attends to positions {@code 0 ..
   * positions[i]}: scores, softmax, weighted sum of the latents into {@code out}. The positions go
   * in blocks of {@link #POSITIONS}, each block read by every row and every group of four heads
   * while it is in the cache: a long prompt's cache (4 MB a row at 4096 positions) read once per
   * group ran at L3 speed; a prefill's rows attend to the same positions, and four rows a pass
   * over the cache made attention at 2048 positions 1.03-1.04x faster than one. Each row's numbers
   * are those it would have alone.
   */
  static void rows(
      float[] qLatent, float[] q, HeadLayout ropeAt, int heads, int rank, int ropeDim, float scale,
      float[] latents, float[] ropeKeys, float[] panels, int panelAt, int[] positions, int i0, int count, int h0, int n,
      float[] out) {
    int longest = 0;
    for (int r = 0; r < count; r++) {
      longest = Math.max(longest, positions[i0 + r] + 1);
    }
    // row r's head j at r * n + j, whole blocks of a panel long
    float[][] scores = scoreRows(count * n, (longest + KeyPanel8.POSITIONS - 1) / KeyPanel8.POSITIONS * KeyPanel8.POSITIONS);
    if (panelAt >= 0 && count * n >= KeyPanel8.QUERIES) {
      panelScores(qLatent, q, ropeAt, heads, rank, ropeDim, scale, panels, panelAt, positions, i0, count, h0, n, scores);
    } else {
      tileScores(qLatent, q, ropeAt, heads, rank, ropeDim, scale, latents, ropeKeys, positions, i0, count, h0, n, longest,
          scores);
    }
    for (int r = 0; r < count; r++) {
      int length = positions[i0 + r] + 1;
      int j = r * n;
      for (; j + HEADS <= (r + 1) * n; j += HEADS) {
        softmax4(scores[j], scores[j + 1], scores[j + 2], scores[j + 3], length);
      }
      for (; j < (r + 1) * n; j++) {
        softmax(scores[j], length);
      }
    }
    if (L == 8 && count * n >= SUM_QUERIES) {
      querySums(scores, n, latents, rank, positions, i0, count, heads, h0, out);
    } else {
      weightedSums(scores, n, latents, rank, positions, i0, count, heads, h0, out);
    }
  }

  /**
   * The scores of heads {@code [h0, h0 + n)} of rows {@code [i0, i0 + count)} from their
   * sequence's {@link KeyPanels} block at {@code panels[panelAt]}: {@link KeyPanel8}'s tiles of
   * queries, each against every block of positions up to the last its rows attend to.
   */
  private static void panelScores(float[] qLatent, float[] q, HeadLayout ropeAt, int heads, int rank, int ropeDim,
      float scale, float[] panels, int panelAt, int[] positions, int i0, int count, int h0, int n, float[][] scores) {
    int queries = count * n; // row r's head j is query r * n + j
    int perTile = KeyPanel8.QUERIES;
    int tiles = (queries + perTile - 1) / perTile;
    int[] ql = new int[tiles * perTile];
    int[] qr = new int[tiles * perTile];
    int[] row = new int[tiles * perTile];
    int[] reach = new int[tiles]; // the positions a tile's rows attend to
    int longest = 0;
    for (int k = 0; k < tiles * perTile; k++) {
      int e = tileMember(k, queries, perTile);
      int r = e / n;
      int h = h0 + e % n;
      ql[k] = ((i0 + r) * heads + h) * rank;
      qr[k] = ropeAt.at(i0 + r, h, 0);
      row[k] = e;
      reach[k / perTile] = Math.max(reach[k / perTile], positions[i0 + r] + 1);
      longest = Math.max(longest, reach[k / perTile]);
    }
    int queryFloats = KeyPanel8.queryFloats(rank, ropeDim);
    float[] packed = PANEL_QUERIES.get();
    if (packed.length < tiles * queryFloats) {
      packed = new float[tiles * queryFloats];
      PANEL_QUERIES.set(packed);
    }
    for (int t = 0; t < tiles; t++) {
      KeyPanel8.packQueries(qLatent, ql, q, qr, t * perTile, rank, ropeDim, packed, t * queryFloats);
    }
    float[] chains = PANEL_CHAINS.get();
    int steps = KeyPanel8.steps(rank, ropeDim);
    int blockFloats = KeyPanel8.blockFloats(rank, ropeDim);
    for (int t0 = 0, block = panelAt; t0 < longest; t0 += KeyPanel8.POSITIONS, block += blockFloats) {
      for (int t = 0; t < tiles; t++) {
        if (t0 < reach[t]) {
          KeyPanel8.lanes(panels, block, steps, packed, t * queryFloats, chains);
          KeyPanel8.trees(chains, Math.min(perTile, queries - t * perTile), scale, scores, row, t * perTile, t0);
        }
      }
    }
  }

  /**
   * The scores of heads {@code [h0, h0 + n)} of rows {@code [i0, i0 + count)} in {@link Dot16}'s
   * tiles, every row and group of four heads against each block of {@link #POSITIONS} in turn.
   */
  private static void tileScores(float[] qLatent, float[] q, HeadLayout ropeAt, int heads, int rank, int ropeDim,
      float scale, float[] latents, float[] ropeKeys, int[] positions, int i0, int count, int h0, int n, int longest,
      float[][] scores) {
    int groups = (n + HEADS - 1) / HEADS;
    int[][] ql = new int[count * groups][HEADS]; // each head's query latent, then its rotary query
    int[][] qr = new int[count * groups][HEADS];
    for (int r = 0; r < count; r++) {
      for (int g = 0; g < groups; g++) {
        int m = Math.min(HEADS, n - g * HEADS);
        for (int j = 0; j < HEADS; j++) {
          int h = h0 + g * HEADS + slot(j, m);
          ql[r * groups + g][j] = ((i0 + r) * heads + h) * rank;
          qr[r * groups + g][j] = ropeAt.at(i0 + r, h, 0);
        }
      }
    }
    float[] dots = new float[HEADS * POSITIONS_PER_TILE]; // (head, position)
    float[] tmp = new float[Dot16.TILE44_CHAINS]; // Dot16's chains between its segments (tile8 uses 16, tile8x2 64)
    int[] at = new int[2 * POSITIONS_PER_TILE]; // a tile's latent offsets, then its rotary key offsets
    for (int t0 = 0; t0 < longest; t0 += POSITIONS) {
      for (int r = 0; r < count; r++) {
        int length = positions[i0 + r] + 1;
        if (t0 >= length) {
          continue;
        }
        int t1 = Math.min(length, t0 + POSITIONS);
        for (int g = 0; g < groups; g++) {
          scores(qLatent, ql[r * groups + g], latents, rank, q, qr[r * groups + g], ropeKeys, ropeDim, scale, length,
              t0, t1, Math.min(HEADS, n - g * HEADS), dots, tmp, at, scores, r * n + g * HEADS);
        }
      }
    }
  }

  /** This thread's score rows, at least {@code n} of at least {@code length} positions. */
  private static float[][] scoreRows(int n, int length) {
    float[][] scores = SCORES.get();
    if (scores.length < n) {
      scores = Arrays.copyOf(scores, n);
      SCORES.set(scores);
    }
    for (int j = 0; j < n; j++) {
      if (scores[j] == null || scores[j].length < length) {
        scores[j] = new float[Math.max(length, scores[j] == null ? 0 : 2 * scores[j].length)];
      }
    }
    return scores;
  }

  /**
   * Scores of four heads (query offsets {@code ql}, {@code qr}; the first {@code n} kept) at
   * positions {@code [t0, t1)} into {@code scores[s + j]}.
   */
  private static void scores(
      float[] qLatent, int[] ql, float[] latents, int rank, float[] q, int[] qr, float[] ropeKeys, int ropeDim,
      float scale, int length, int t0, int t1, int n, float[] dots, float[] tmp, int[] at, float[][] scores, int s) {
    if (L < 16) {
      int t = t0;
      for (; t + 2 <= t1; t += 2) {
        Dot16.tile8x2(qLatent, ql, latents, t * rank, (t + 1) * rank, rank, q, qr, ropeKeys, t * ropeDim,
            (t + 1) * ropeDim, ropeDim, dots, tmp);
        for (int j = 0; j < n; j++) {
          scores[s + j][t] = dots[2 * j] * scale;
          scores[s + j][t + 1] = dots[2 * j + 1] * scale;
        }
      }
      if (t < t1) {
        Dot16.tile8(qLatent, ql, latents, t * rank, rank, q, qr, ropeKeys, t * ropeDim, ropeDim, dots, tmp);
        for (int j = 0; j < n; j++) {
          scores[s + j][t] = dots[2 * j] * scale;
        }
      }
      return;
    }
    for (int t = t0; t < t1; t += POSITIONS_PER_TILE) {
      for (int p = 0; p < POSITIONS_PER_TILE; p++) {
        int position = Math.min(t + p, length - 1); // past the end: the last position again, dropped
        at[p] = position * rank;
        at[POSITIONS_PER_TILE + p] = position * ropeDim;
      }
      Dot16.tile44(qLatent, ql, latents, at, rank, q, qr, ropeKeys, ropeDim, dots, tmp);
      int kept = Math.min(POSITIONS_PER_TILE, t1 - t);
      for (int j = 0; j < n; j++) {
        float[] row = scores[s + j];
        for (int p = 0; p < kept; p++) {
          row[t + p] = dots[POSITIONS_PER_TILE * j + p] * scale;
        }
      }
    }
  }

  private static void softmax(float[] s, int length) {
    FloatExp.expShiftedInPlace(s, max(s, length), 0, length);
    float sum = 0f;
    for (int t = 0; t < length; t++) {
      sum += s[t]; // in order, as the scalar softmax adds
    }
    divide(s, sum, length);
  }

  /**
   * {@link #softmax} of four rows at once, each the same bits: the in-order sums of four rows as
   * four independent chains, where one row's chain waited on the latency of each addition (about
   * as long as its exponentials took).
   */
  private static void softmax4(float[] s0, float[] s1, float[] s2, float[] s3, int length) {
    FloatExp.expShiftedInPlace(s0, max(s0, length), 0, length);
    FloatExp.expShiftedInPlace(s1, max(s1, length), 0, length);
    FloatExp.expShiftedInPlace(s2, max(s2, length), 0, length);
    FloatExp.expShiftedInPlace(s3, max(s3, length), 0, length);
    float u0 = 0f, u1 = 0f, u2 = 0f, u3 = 0f;
    for (int t = 0; t < length; t++) {
      u0 += s0[t];
      u1 += s1[t];
      u2 += s2[t];
      u3 += s3[t];
    }
    divide(s0, u0, length);
    divide(s1, u1, length);
    divide(s2, u2, length);
    divide(s3, u3, length);
  }

  /**
   * The largest of {@code s[0 .. length)}, a vector of maxima at a time: the maximum of a set
   * does not depend on the order it is taken in (where a loop of {@code Math.max} over four rows
   * took a tenth of a 512-token prefill's attention).
   */
  private static float max(float[] s, int length) {
    FloatVector lanes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    int t = 0;
    for (int bound = F.loopBound(length); t < bound; t += L) {
      lanes = lanes.max(FloatVector.fromArray(F, s, t));
    }
    float max = lanes.reduceLanes(VectorOperators.MAX);
    for (; t < length; t++) {
      max = Math.max(max, s[t]);
    }
    return max;
  }

  private static void divide(float[] s, float sum, int length) {
    for (int t = 0; t < length; t++) {
      s[t] = s[t] / sum; // C2 vectorizes this loop itself
    }
  }

  /**
   * {@code out[j][c] = sum_t p[j][t] * latents[t][c]} for heads {@code j < n} of each row (rows
   * {@code rank} apart from the row's first head's), each element a chain of fused multiply-adds
   * over {@code t} in order. Over a long cache on AVX-512, sixteen chains (four heads, four vectors
   * of columns) go through blocks of {@link #WIDE_SUM_BLOCK} positions, each block's column slice
   * copied once and read by every row and every group of heads in turn; otherwise eight (two vectors; AVX2 has 16
   * registers) through blocks of {@link #POSITIONS}, whose latents stay in L1 while every group
   * and every two vectors of columns read them. Each chain's value is kept in {@code out} between
   * blocks, exactly. Four heads per pass over a long cache left the sum waiting on L3 (53 GFLOP/s
   * a thread at 2048 positions).
   */
  private static void weightedSums(float[][] p, int n, float[] latents, int rank, int[] positions, int i0, int count,
      int heads, int h0, float[] out) {
    int longest = 0;
    for (int r = 0; r < count; r++) {
      int length = positions[i0 + r] + 1;
      int o = ((i0 + r) * heads + h0) * rank;
      if (wide(length)) {
        longest = Math.max(longest, length);
        Arrays.fill(out, o, o + n * rank, 0f); // the chains start from these zeros
      } else {
        narrowSum(p, r * n, n, latents, rank, length, out, o);
      }
    }
    int width = 4 * L;
    int paired = rank / width * width;
    float[] slice = SLICES.get(); // position t of the block at (t - t0) * width
    for (int t0 = 0; t0 < longest; t0 += WIDE_SUM_BLOCK) {
      int end = Math.min(longest, t0 + WIDE_SUM_BLOCK);
      for (int c = 0; c < paired; c += width) {
        copySlice(latents, rank, c, t0, end, slice);
        for (int r = 0; r < count; r++) {
          int length = positions[i0 + r] + 1;
          if (!wide(length) || t0 >= length) {
            continue;
          }
          int t1 = Math.min(length, end);
          int o = ((i0 + r) * heads + h0) * rank;
          for (int g = r * n; g < (r + 1) * n; g += HEADS) {
            int m = Math.min(HEADS, (r + 1) * n - g);
            sumBlock4(member(p, g, m, 0), member(p, g, m, 1), member(p, g, m, 2), member(p, g, m, 3), m,
                slice, width, -t0 * width, t0, t1, out, o + (g - r * n) * rank + c, rank);
          }
        }
      }
    }
    for (int r = 0; r < count; r++) {
      int length = positions[i0 + r] + 1;
      if (wide(length)) {
        remainingColumnsOfRow(p, r * n, n, latents, rank, length, paired, out, ((i0 + r) * heads + h0) * rank);
      }
    }
  }

  /**
   * {@link #weightedSums} of many queries on AVX2 (every head of a row, or of a prefill's rows):
   * every head of every row is a query, six of them a tile ({@link #sumBlock6}) over blocks of {@link #SUM_BLOCK} positions
   * and two vectors of columns at a time, each tile up to the last position all of its queries
   * attend to, and each query alone from there to its own last ({@link #sumBlock}); the columns
   * past the last whole two vectors as {@link #narrowSum} takes them. Each chain's value is kept in
   * {@code out} between blocks, exactly, so each element is its one chain over the positions.
   */
  private static void querySums(float[][] p, int n, float[] latents, int rank, int[] positions, int i0, int count,
      int heads, int h0, float[] out) {
    int queries = count * n; // row r's head j is query r * n + j, its scores p[r * n + j]
    int tiles = (queries + SUM_QUERIES - 1) / SUM_QUERIES;
    int[] row = new int[tiles * SUM_QUERIES];
    int[] at = new int[tiles * SUM_QUERIES];
    int[] length = new int[tiles * SUM_QUERIES];
    int[] shortest = new int[tiles]; // the positions all of a tile's queries attend to
    Arrays.fill(shortest, Integer.MAX_VALUE);
    int longest = 0;
    for (int k = 0; k < tiles * SUM_QUERIES; k++) {
      int e = tileMember(k, queries, SUM_QUERIES);
      int r = e / n;
      row[k] = e;
      at[k] = ((i0 + r) * heads + h0 + e % n) * rank;
      length[k] = positions[i0 + r] + 1;
      shortest[k / SUM_QUERIES] = Math.min(shortest[k / SUM_QUERIES], length[k]);
      longest = Math.max(longest, length[k]);
      if (k < queries) {
        Arrays.fill(out, at[k], at[k] + rank, 0f); // the chains start from these zeros
      }
    }
    int width = 2 * L;
    int paired = rank / width * width;
    for (int t0 = 0; t0 < longest; t0 += SUM_BLOCK) {
      int t1 = Math.min(longest, t0 + SUM_BLOCK);
      for (int c = 0; c < paired; c += width) {
        for (int t = 0; t < tiles; t++) {
          int g = t * SUM_QUERIES;
          int shared = Math.max(t0, Math.min(t1, shortest[t]));
          if (shared > t0) {
            sumBlock6(p, row, at, g, latents, rank, t0, shared, c, out);
          }
          for (int k = g; k < Math.min(queries, g + SUM_QUERIES); k++) {
            int end = Math.min(t1, length[k]);
            if (end > shared) {
              float[] pk = p[row[k]];
              sumBlock(pk, pk, pk, pk, 1, latents, rank, shared, end, c, out, at[k]);
            }
          }
        }
      }
    }
    for (int r = 0; r < count; r++) {
      remainingColumnsOfRow(p, r * n, n, latents, rank, positions[i0 + r] + 1, paired, out, ((i0 + r) * heads + h0) * rank);
    }
  }

  /**
   * Two vectors of columns from {@code c} of six queries ({@code p[row[g + j]]}, outputs at {@code
   * at[g + j] + c}), positions {@code [t0, t1)}: twelve chains going on from {@code out}, two
   * vector loads and six broadcasts for twelve fused multiply-adds ({@link Tiles8#t6x16}'s shape).
   */
  private static void sumBlock6(float[][] p, int[] row, int[] at, int g, float[] latents, int rank, int t0, int t1,
      int c, float[] out) {
    float[] p0 = p[row[g + 0]];
    float[] p1 = p[row[g + 1]];
    float[] p2 = p[row[g + 2]];
    float[] p3 = p[row[g + 3]];
    float[] p4 = p[row[g + 4]];
    float[] p5 = p[row[g + 5]];
    int o0 = at[g + 0] + c;
    int o1 = at[g + 1] + c;
    int o2 = at[g + 2] + c;
    int o3 = at[g + 3] + c;
    int o4 = at[g + 4] + c;
    int o5 = at[g + 5] + c;
    FloatVector a0 = FloatVector.fromArray(F, out, o0), b0 = FloatVector.fromArray(F, out, o0 + L);
    FloatVector a1 = FloatVector.fromArray(F, out, o1), b1 = FloatVector.fromArray(F, out, o1 + L);
    FloatVector a2 = FloatVector.fromArray(F, out, o2), b2 = FloatVector.fromArray(F, out, o2 + L);
    FloatVector a3 = FloatVector.fromArray(F, out, o3), b3 = FloatVector.fromArray(F, out, o3 + L);
    FloatVector a4 = FloatVector.fromArray(F, out, o4), b4 = FloatVector.fromArray(F, out, o4 + L);
    FloatVector a5 = FloatVector.fromArray(F, out, o5), b5 = FloatVector.fromArray(F, out, o5 + L);
    for (int t = t0; t < t1; t++) {
      FloatVector u = FloatVector.fromArray(F, latents, t * rank + c);
      FloatVector v = FloatVector.fromArray(F, latents, t * rank + c + L);
      FloatVector w = FloatVector.broadcast(F, p0[t]);
      a0 = u.fma(w, a0);
      b0 = v.fma(w, b0);
      w = FloatVector.broadcast(F, p1[t]);
      a1 = u.fma(w, a1);
      b1 = v.fma(w, b1);
      w = FloatVector.broadcast(F, p2[t]);
      a2 = u.fma(w, a2);
      b2 = v.fma(w, b2);
      w = FloatVector.broadcast(F, p3[t]);
      a3 = u.fma(w, a3);
      b3 = v.fma(w, b3);
      w = FloatVector.broadcast(F, p4[t]);
      a4 = u.fma(w, a4);
      b4 = v.fma(w, b4);
      w = FloatVector.broadcast(F, p5[t]);
      a5 = u.fma(w, a5);
      b5 = v.fma(w, b5);
    }
    store(a0, b0, out, o0);
    store(a1, b1, out, o1);
    store(a2, b2, out, o2);
    store(a3, b3, out, o3);
    store(a4, b4, out, o4);
    store(a5, b5, out, o5);
  }

  /** Columns {@code [c, c + 4L)} of latent rows {@code [t0, t1)} into {@code slice}, row after row. */
  private static void copySlice(float[] latents, int rank, int c, int t0, int t1, float[] slice) {
    for (int t = t0; t < t1; t++) {
      int from = t * rank + c;
      int to = (t - t0) * 4 * L;
      FloatVector.fromArray(F, latents, from).intoArray(slice, to);
      FloatVector.fromArray(F, latents, from + L).intoArray(slice, to + L);
      FloatVector.fromArray(F, latents, from + 2 * L).intoArray(slice, to + 2 * L);
      FloatVector.fromArray(F, latents, from + 3 * L).intoArray(slice, to + 3 * L);
    }
  }

  /** Whether a row attending to {@code length} positions takes the sixteen chains of {@link #sumBlock4}. */
  private static boolean wide(int length) {
    return L == 16 && length >= WIDE_SUM_POSITIONS;
  }

  /** The eight-chain weighted sum of one row's heads {@code p[s .. s + n)} over {@code length} positions. */
  private static void narrowSum(float[][] p, int s, int n, float[] latents, int rank, int length, float[] out, int o) {
    int width = 2 * L;
    int paired = rank / width * width;
    for (int t0 = 0; t0 < length; t0 += POSITIONS) {
      int t1 = Math.min(length, t0 + POSITIONS);
      for (int g = s; g < s + n; g += HEADS) {
        int m = Math.min(HEADS, s + n - g);
        for (int c = 0; c < paired; c += width) {
          sumBlock(member(p, g, m, 0), member(p, g, m, 1), member(p, g, m, 2), member(p, g, m, 3), m,
              latents, rank, t0, t1, c, out, o + (g - s) * rank);
        }
      }
    }
    remainingColumnsOfRow(p, s, n, latents, rank, length, paired, out, o);
  }

  /** {@link #remainingColumns} from {@code c} for one row's heads {@code p[s .. s + n)}, four at a time. */
  private static void remainingColumnsOfRow(
      float[][] p, int s, int n, float[] latents, int rank, int length, int c, float[] out, int o) {
    for (int g = s; g < s + n; g += HEADS) {
      remainingColumns(p, g, Math.min(HEADS, s + n - g), latents, rank, length, c, out, o + (g - s) * rank);
    }
  }

  /** Two vectors of columns from {@code c} of four heads, positions {@code [t0, t1)}. */
  private static void sumBlock(float[] p0, float[] p1, float[] p2, float[] p3, int n, float[] latents, int rank,
      int t0, int t1, int c, float[] out, int o) {
    boolean first = t0 == 0;
    FloatVector a0 = partial(first, true, out, o + c);
    FloatVector a1 = partial(first, n > 1, out, o + rank + c);
    FloatVector a2 = partial(first, n > 2, out, o + 2 * rank + c);
    FloatVector a3 = partial(first, n > 3, out, o + 3 * rank + c);
    FloatVector b0 = partial(first, true, out, o + c + L);
    FloatVector b1 = partial(first, n > 1, out, o + rank + c + L);
    FloatVector b2 = partial(first, n > 2, out, o + 2 * rank + c + L);
    FloatVector b3 = partial(first, n > 3, out, o + 3 * rank + c + L);
    for (int t = t0; t < t1; t++) {
      FloatVector u = FloatVector.fromArray(F, latents, t * rank + c);
      FloatVector v = FloatVector.fromArray(F, latents, t * rank + c + L);
      FloatVector w0 = FloatVector.broadcast(F, p0[t]);
      FloatVector w1 = FloatVector.broadcast(F, p1[t]);
      FloatVector w2 = FloatVector.broadcast(F, p2[t]);
      FloatVector w3 = FloatVector.broadcast(F, p3[t]);
      a0 = u.fma(w0, a0);
      a1 = u.fma(w1, a1);
      a2 = u.fma(w2, a2);
      a3 = u.fma(w3, a3);
      b0 = v.fma(w0, b0);
      b1 = v.fma(w1, b1);
      b2 = v.fma(w2, b2);
      b3 = v.fma(w3, b3);
    }
    store(a0, b0, out, o + c);
    if (n > 1) {
      store(a1, b1, out, o + rank + c);
    }
    if (n > 2) {
      store(a2, b2, out, o + 2 * rank + c);
    }
    if (n > 3) {
      store(a3, b3, out, o + 3 * rank + c);
    }
  }

  /**
   * Four vectors of columns of four heads, positions {@code [t0, t1)} (position {@code t}'s at
   * {@code latents[column + t * stride]}, head {@code j}'s outputs at {@code o + j * rank}): sixteen
   * chains, twice what the FMA latency needs (eight left the sum waiting on it). Every chain
   * goes on from {@code out}, zero before the first block; a missing head reads the first's and
   * is not stored. Loading each chain unconditionally matters: with sixteen chains that started
   * either from zero or from {@code out}, C2 (JDK 25) boxed them all.
   */
  private static void sumBlock4(float[] p0, float[] p1, float[] p2, float[] p3, int n, float[] latents, int stride,
      int column, int t0, int t1, float[] out, int o, int rank) {
    int o0 = o;
    int o1 = o + slot(1, n) * rank;
    int o2 = o + slot(2, n) * rank;
    int o3 = o + slot(3, n) * rank;
    FloatVector a0 = FloatVector.fromArray(F, out, o0), b0 = FloatVector.fromArray(F, out, o0 + L);
    FloatVector c0 = FloatVector.fromArray(F, out, o0 + 2 * L), d0 = FloatVector.fromArray(F, out, o0 + 3 * L);
    FloatVector a1 = FloatVector.fromArray(F, out, o1), b1 = FloatVector.fromArray(F, out, o1 + L);
    FloatVector c1 = FloatVector.fromArray(F, out, o1 + 2 * L), d1 = FloatVector.fromArray(F, out, o1 + 3 * L);
    FloatVector a2 = FloatVector.fromArray(F, out, o2), b2 = FloatVector.fromArray(F, out, o2 + L);
    FloatVector c2 = FloatVector.fromArray(F, out, o2 + 2 * L), d2 = FloatVector.fromArray(F, out, o2 + 3 * L);
    FloatVector a3 = FloatVector.fromArray(F, out, o3), b3 = FloatVector.fromArray(F, out, o3 + L);
    FloatVector c3 = FloatVector.fromArray(F, out, o3 + 2 * L), d3 = FloatVector.fromArray(F, out, o3 + 3 * L);
    for (int t = t0; t < t1; t++) {
      int at = t * stride + column;
      FloatVector u = FloatVector.fromArray(F, latents, at);
      FloatVector v = FloatVector.fromArray(F, latents, at + L);
      FloatVector x = FloatVector.fromArray(F, latents, at + 2 * L);
      FloatVector y = FloatVector.fromArray(F, latents, at + 3 * L);
      FloatVector w = FloatVector.broadcast(F, p0[t]);
      a0 = u.fma(w, a0);
      b0 = v.fma(w, b0);
      c0 = x.fma(w, c0);
      d0 = y.fma(w, d0);
      w = FloatVector.broadcast(F, p1[t]);
      a1 = u.fma(w, a1);
      b1 = v.fma(w, b1);
      c1 = x.fma(w, c1);
      d1 = y.fma(w, d1);
      w = FloatVector.broadcast(F, p2[t]);
      a2 = u.fma(w, a2);
      b2 = v.fma(w, b2);
      c2 = x.fma(w, c2);
      d2 = y.fma(w, d2);
      w = FloatVector.broadcast(F, p3[t]);
      a3 = u.fma(w, a3);
      b3 = v.fma(w, b3);
      c3 = x.fma(w, c3);
      d3 = y.fma(w, d3);
    }
    store(a0, b0, out, o0);
    store(c0, d0, out, o0 + 2 * L);
    if (n > 1) {
      store(a1, b1, out, o1);
      store(c1, d1, out, o1 + 2 * L);
    }
    if (n > 2) {
      store(a2, b2, out, o2);
      store(c2, d2, out, o2 + 2 * L);
    }
    if (n > 3) {
      store(a3, b3, out, o3);
      store(c3, d3, out, o3 + 2 * L);
    }
  }

  /** Columns {@code [c, rank)} of heads {@code [g, g + n)}, {@code n <= 4}: a vector, then one at a time. */
  private static void remainingColumns(
      float[][] p, int g, int n, float[] latents, int rank, int length, int c, float[] out, int o) {
    float[] p0 = member(p, g, n, 0);
    float[] p1 = member(p, g, n, 1);
    float[] p2 = member(p, g, n, 2);
    float[] p3 = member(p, g, n, 3);
    for (; c + L <= rank; c += L) {
      FloatVector a0 = FloatVector.zero(F);
      FloatVector a1 = a0;
      FloatVector a2 = a0;
      FloatVector a3 = a0;
      for (int t = 0; t < length; t++) {
        FloatVector v = FloatVector.fromArray(F, latents, t * rank + c);
        a0 = v.fma(FloatVector.broadcast(F, p0[t]), a0);
        a1 = v.fma(FloatVector.broadcast(F, p1[t]), a1);
        a2 = v.fma(FloatVector.broadcast(F, p2[t]), a2);
        a3 = v.fma(FloatVector.broadcast(F, p3[t]), a3);
      }
      a0.intoArray(out, o + c);
      if (n > 1) {
        a1.intoArray(out, o + rank + c);
      }
      if (n > 2) {
        a2.intoArray(out, o + 2 * rank + c);
      }
      if (n > 3) {
        a3.intoArray(out, o + 3 * rank + c);
      }
    }
    // remaining columns: the same chain per element
    for (; c < rank; c++) {
      for (int j = 0; j < n; j++) {
        float acc = 0f;
        for (int t = 0; t < length; t++) {
          acc = Math.fma(p[g + j][t], latents[t * rank + c], acc);
        }
        out[o + j * rank + c] = acc;
      }
    }
  }

  /**
   * The query in place {@code k} of tiles of {@code perTile} over {@code queries}: past the last
   * query, its tile's first again, computed and dropped (as {@link #slot} does for heads).
   */
  private static int tileMember(int k, int queries, int perTile) {
    return k < queries ? k : k / perTile * perTile;
  }

  /** Head {@code j} of the group of {@code n} from {@code g}, as {@link #slot} places it. */
  private static float[] member(float[][] p, int g, int n, int j) {
    return p[g + slot(j, n)];
  }

  /** The head in lane {@code j} of a group of {@code n}: a missing head repeats the first, its results dropped. */
  private static int slot(int j, int n) {
    return j < n ? j : 0;
  }

  /** A chain's value so far: zero at the first block of positions, else as stored (exactly). */
  private static FloatVector partial(boolean first, boolean present, float[] out, int at) {
    return first || !present ? FloatVector.zero(F) : FloatVector.fromArray(F, out, at);
  }

  private static void store(FloatVector lo, FloatVector hi, float[] out, int at) {
    lo.intoArray(out, at);
    hi.intoArray(out, at + L);
  }
}
