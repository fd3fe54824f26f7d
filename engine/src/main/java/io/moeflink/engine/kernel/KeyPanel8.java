package io.moeflink.engine.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * MLA's scores on 8 float lanes (AVX2) for many queries at once, a prefill's: the cached keys of
 * sixteen positions laid out by virtual lane in a panel ({@link #pack}), a vector holding one key
 * dimension at eight positions, so that the scores of six (JDK 17-24: five) queries at sixteen
 * positions run as twelve chains, each query dimension broadcast against two vectors of keys:
 * {@link Tiles8#t6x16}'s shape, two vector loads and six broadcasts for twelve fused
 * multiply-adds, where {@link Dot16#tile8x2}'s four heads x two positions load six vectors for
 * eight (alone on Zen 3, one thread: 0.5-0.6 of the FMA peak before their tree).
 *
 * <p>The order is {@link Dot16}'s. Key dimension {@code c} of the latent and {@code c} of the
 * rotary key sit at dimensions {@code c} and {@code pad(rank) + c} of one padded key ({@code pad}
 * rounds up to a multiple of 16, the padding zeros), so virtual lane {@code l} of a score is the
 * chain over padded dimensions {@code l, l + 16, ...}: the latent's, then the rotary key's, as
 * {@link Dot16#scalar} takes them, a padding step adding {@code 0 * 0} (a chain from {@code +0} is
 * never {@code -0}, so that adds nothing). A tile runs one virtual lane of its queries at a time,
 * then the tree adds the sixteen lanes as {@link Dot16} does, eight positions to a vector. The
 * two tiles are written out in full, as {@link Tiles8}'s are.
 */
final class KeyPanel8 {
  private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
  /** Positions of one panel block: two vectors. */
  static final int POSITIONS = 16;
  /**
   * Queries of one tile: six leave JDK 25's C2 its sixteen registers (twelve chains, two key
   * vectors, a broadcast); JDK 17 spills six, as it does {@link Tiles8#t6x16}'s, and takes five.
   */
  static final int QUERIES = Runtime.version().feature() >= 25 ? 6 : 5;
  /** Floats of a tile's chains: sixteen virtual lanes of {@link #QUERIES} queries at sixteen positions. */
  static final int CHAINS = 16 * QUERIES * POSITIONS;

  private KeyPanel8() {}

  /** Steps of one virtual lane's chain: the padded key's dimensions over 16. */
  static int steps(int rank, int ropeDim) {
    return padded(rank) / 16 + padded(ropeDim) / 16;
  }

  /** {@code n} rounded up to a multiple of 16: where the rotary key starts in the padded key. */
  private static int padded(int n) {
    return (n + 15) / 16 * 16;
  }

  /** Where padded dimension {@code d = 16 * s + l} sits in a lane-major layout: step {@code s} of lane {@code l}. */
  private static int laneStep(int d, int steps) {
    return steps * (d & 15) + (d >> 4);
  }

  /** Floats of one block of sixteen positions. */
  static int blockFloats(int rank, int ropeDim) {
    return 16 * steps(rank, ropeDim) * POSITIONS;
  }

  /** Floats of one tile's queries ({@link #packQueries}). */
  static int queryFloats(int rank, int ropeDim) {
    return 16 * steps(rank, ropeDim) * QUERIES;
  }

  /**
   * Positions {@code [t0, t1)} ({@code t1 - t0 <= 16}) of a cache into the block at {@code
   * panel[at]}: padded dimension {@code d = 16 * s + l} of position {@code t} at {@code at + 16 *
   * (steps * l + s) + t - t0}; padding and the positions from {@code t1} on are zeros.
   */
  static void pack(float[] latents, int rank, float[] ropeKeys, int ropeDim, int t0, int t1, float[] panel, int at) {
    int steps = steps(rank, ropeDim);
    int rope = padded(rank);
    Arrays.fill(panel, at, at + blockFloats(rank, ropeDim), 0f);
    for (int t = t0; t < t1; t++) {
      int p = at + t - t0;
      int from = t * rank;
      for (int c = 0; c < rank; c++) {
        panel[p + POSITIONS * laneStep(c, steps)] = latents[from + c];
      }
      from = t * ropeDim;
      for (int c = 0; c < ropeDim; c++) {
        panel[p + POSITIONS * laneStep(rope + c, steps)] = ropeKeys[from + c];
      }
    }
  }

  /**
   * Queries {@code [g, g + QUERIES)} as a tile reads them, into {@code out[at ..]}: padded
   * dimension {@code 16 * s + l} of query {@code j} at {@code at + QUERIES * (steps * l + s) + j}.
   * Query {@code j}'s latent starts at {@code qa[ql[g + j]]}, its rotary part at {@code
   * qr[qro[g + j]]}.
   */
  static void packQueries(
      float[] qa, int[] ql, float[] qr, int[] qro, int g, int rank, int ropeDim, float[] out, int at) {
    int steps = steps(rank, ropeDim);
    int rope = padded(rank);
    Arrays.fill(out, at, at + queryFloats(rank, ropeDim), 0f);
    for (int j = 0; j < QUERIES; j++) {
      for (int c = 0; c < rank; c++) {
        out[at + QUERIES * laneStep(c, steps) + j] = qa[ql[g + j] + c];
      }
      for (int c = 0; c < ropeDim; c++) {
        out[at + QUERIES * laneStep(rope + c, steps) + j] = qr[qro[g + j] + c];
      }
    }
  }

  /**
   * The sixteen virtual lanes of a tile's queries ({@link #packQueries} at {@code queries[at]}) at
   * the sixteen positions of the block at {@code panel[block]} into {@code chains}: lane {@code l}
   * of query {@code j} at position {@code p} at {@code 16 * (QUERIES * l + j) + p}.
   */
  static void lanes(float[] panel, int block, int steps, float[] queries, int at, float[] chains) {
    if (QUERIES == 6) {
      six(panel, block, steps, queries, at, chains);
    } else {
      five(panel, block, steps, queries, at, chains);
    }
  }

  /**
   * Scores of a tile's first {@code n} queries from their {@link #lanes}: the tree of each one's
   * sixteen lanes, eight positions at a time, times {@code scale}, into {@code scores[row[g + j]]}
   * from position {@code t0} (sixteen floats; those past a query's last position unused).
   */
  static void trees(float[] chains, int n, float scale, float[][] scores, int[] row, int g, int t0) {
    int lane = QUERIES * POSITIONS; // floats from one virtual lane to the next
    for (int j = 0; j < n; j++) {
      for (int h = 0; h < POSITIONS; h += 8) {
        int o = POSITIONS * j + h;
        FloatVector w0 = level(chains, o, lane, 0);
        FloatVector w1 = level(chains, o, lane, 1);
        FloatVector w2 = level(chains, o, lane, 2);
        FloatVector w3 = level(chains, o, lane, 3);
        FloatVector w4 = level(chains, o, lane, 4);
        FloatVector w5 = level(chains, o, lane, 5);
        FloatVector w6 = level(chains, o, lane, 6);
        FloatVector w7 = level(chains, o, lane, 7);
        FloatVector sum = w0.add(w4).add(w2.add(w6)).add(w1.add(w5).add(w3.add(w7)));
        sum.mul(scale).intoArray(scores[row[g + j]], t0 + h);
      }
    }
  }

  /** The tree's first level at eight positions: lane {@code l + 8} plus lane {@code l}, as {@link Dot16} adds them. */
  private static FloatVector level(float[] chains, int o, int lane, int l) {
    return FloatVector.fromArray(F8, chains, o + (l + 8) * lane).add(FloatVector.fromArray(F8, chains, o + l * lane));
  }

  private static void six(float[] panel, int block, int steps, float[] queries, int at, float[] chains) {
    for (int l = 0; l < 16; l++) {
      FloatVector c00 = FloatVector.zero(F8), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
      FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
      int k = block + POSITIONS * steps * l;
      int w0 = at + 6 * steps * l;
      for (int s = 0; s < steps; s++, k += POSITIONS, w0 += 6) {
        FloatVector k0 = FloatVector.fromArray(F8, panel, k);
        FloatVector k1 = FloatVector.fromArray(F8, panel, k + 8);
        FloatVector w = FloatVector.broadcast(F8, queries[w0]);
        c00 = w.fma(k0, c00);
        c01 = w.fma(k1, c01);
        w = FloatVector.broadcast(F8, queries[w0 + 1]);
        c10 = w.fma(k0, c10);
        c11 = w.fma(k1, c11);
        w = FloatVector.broadcast(F8, queries[w0 + 2]);
        c20 = w.fma(k0, c20);
        c21 = w.fma(k1, c21);
        w = FloatVector.broadcast(F8, queries[w0 + 3]);
        c30 = w.fma(k0, c30);
        c31 = w.fma(k1, c31);
        w = FloatVector.broadcast(F8, queries[w0 + 4]);
        c40 = w.fma(k0, c40);
        c41 = w.fma(k1, c41);
        w = FloatVector.broadcast(F8, queries[w0 + 5]);
        c50 = w.fma(k0, c50);
        c51 = w.fma(k1, c51);
      }
      int o = POSITIONS * 6 * l;
      c00.intoArray(chains, o);
      c01.intoArray(chains, o + 8);
      c10.intoArray(chains, o + 16);
      c11.intoArray(chains, o + 24);
      c20.intoArray(chains, o + 32);
      c21.intoArray(chains, o + 40);
      c30.intoArray(chains, o + 48);
      c31.intoArray(chains, o + 56);
      c40.intoArray(chains, o + 64);
      c41.intoArray(chains, o + 72);
      c50.intoArray(chains, o + 80);
      c51.intoArray(chains, o + 88);
    }
  }

  private static void five(float[] panel, int block, int steps, float[] queries, int at, float[] chains) {
    for (int l = 0; l < 16; l++) {
      FloatVector c00 = FloatVector.zero(F8), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
      FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00;
      int k = block + POSITIONS * steps * l;
      int w0 = at + 5 * steps * l;
      for (int s = 0; s < steps; s++, k += POSITIONS, w0 += 5) {
        FloatVector k0 = FloatVector.fromArray(F8, panel, k);
        FloatVector k1 = FloatVector.fromArray(F8, panel, k + 8);
        FloatVector w = FloatVector.broadcast(F8, queries[w0]);
        c00 = w.fma(k0, c00);
        c01 = w.fma(k1, c01);
        w = FloatVector.broadcast(F8, queries[w0 + 1]);
        c10 = w.fma(k0, c10);
        c11 = w.fma(k1, c11);
        w = FloatVector.broadcast(F8, queries[w0 + 2]);
        c20 = w.fma(k0, c20);
        c21 = w.fma(k1, c21);
        w = FloatVector.broadcast(F8, queries[w0 + 3]);
        c30 = w.fma(k0, c30);
        c31 = w.fma(k1, c31);
        w = FloatVector.broadcast(F8, queries[w0 + 4]);
        c40 = w.fma(k0, c40);
        c41 = w.fma(k1, c41);
      }
      int o = POSITIONS * 5 * l;
      c00.intoArray(chains, o);
      c01.intoArray(chains, o + 8);
      c10.intoArray(chains, o + 16);
      c11.intoArray(chains, o + 24);
      c20.intoArray(chains, o + 32);
      c21.intoArray(chains, o + 40);
      c30.intoArray(chains, o + 48);
      c31.intoArray(chains, o + 56);
      c40.intoArray(chains, o + 64);
      c41.intoArray(chains, o + 72);
    }
  }
}
