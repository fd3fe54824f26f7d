package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one order of a dot product {@code sum_i a[i] * b[i]}, on every backend and machine: sixteen
 * virtual lanes, lane {@code j} a chain of fused multiply-adds over {@code i = j, j + 16, j + 32,
 * ...} in order, then a fixed tree: {@code w[j] = l[j] + l[j + 8]}, then {@code u[j] = w[j] + w[j +
 * 4]}, {@code v[j] = u[j] + u[j + 2]}, and {@code v[0] + v[1]}. A 512-bit vector holds the sixteen
 * lanes, two 256-bit ones hold eight each; the scalar reference keeps sixteen floats. The Vector
 * API's {@code reduceLanes(ADD)} leaves its order unspecified, so it is never used.
 */
final class Dot16 {
  private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
  private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

  private Dot16() {}

  /**
   * The masks and swaps of the trees in 512-bit lanes, made on first use: an AVX2 machine never
   * makes them (a vector of a shape the kernels do not use cost JDK 17's C2 its constant vector
   * classes in the API's shared methods once, see {@link ExpLanes}).
   */
  private static final class TreeLanes {
    /** Lanes 8-15, 4-7 and 12-15, every other pair; swaps of lanes 8, 4, 2 and 1 apart. */
    static final VectorMask<Float> HIGH8 = VectorMask.fromLong(F16, 0xFF00L);
    static final VectorMask<Float> ODD4 = VectorMask.fromLong(F16, 0xF0F0L);
    static final VectorMask<Float> ODD2 = VectorMask.fromLong(F16, 0xCCCCL);
    static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromOp(F16, i -> i ^ 8);
    static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(F16, i -> i ^ 4);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(F16, i -> i ^ 2);
    static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(F16, i -> i ^ 1);

    private TreeLanes() {}
  }

  /** The reference: sixteen float accumulators and the tree. */
  static float scalar(float[] a, int aOffset, float[] b, int bOffset, int n) {
    float[] lanes = new float[16];
    for (int i = 0; i < n; i++) {
      lanes[i % 16] = Math.fma(a[aOffset + i], b[bOffset + i], lanes[i % 16]);
    }
    float[] w = new float[8];
    for (int j = 0; j < 8; j++) {
      w[j] = lanes[j] + lanes[j + 8];
    }
    return ((w[0] + w[4]) + (w[2] + w[6])) + ((w[1] + w[5]) + (w[3] + w[7]));
  }

  /**
   * The reference of a two-segment dot product, {@code a . b + c . d} as one sum: the first
   * segment's element {@code i} goes to lane {@code i % 16}, the second's element {@code j} to
   * lane {@code j % 16} after it, then one tree. MLA's scores are such sums: the latent part and
   * the rotary part of the query against one cached position.
   */
  static float scalar(float[] a, int ao, float[] b, int bo, int n, float[] c, int co, float[] d, int dOff, int m) {
    float[] lanes = new float[16];
    for (int i = 0; i < n; i++) {
      lanes[i % 16] = Math.fma(a[ao + i], b[bo + i], lanes[i % 16]);
    }
    for (int j = 0; j < m; j++) {
      lanes[j % 16] = Math.fma(c[co + j], d[dOff + j], lanes[j % 16]);
    }
    float[] w = new float[8];
    for (int j = 0; j < 8; j++) {
      w[j] = lanes[j] + lanes[j + 8];
    }
    return ((w[0] + w[4]) + (w[2] + w[6])) + ((w[1] + w[5]) + (w[3] + w[7]));
  }

  /** Sixteen lanes in one 512-bit vector. */
  static float vector16(float[] a, int aOffset, float[] b, int bOffset, int n) {
    FloatVector acc = FloatVector.zero(F16);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      acc = FloatVector.fromArray(F16, a, aOffset + i).fma(FloatVector.fromArray(F16, b, bOffset + i), acc);
    }
    if (i < n) {
      // remaining entries: masked lanes load zeros, and fma(0, 0, acc) is acc (never -0)
      VectorMask<Float> m = F16.indexInRange(i, n);
      acc = FloatVector.fromArray(F16, a, aOffset + i, m).fma(FloatVector.fromArray(F16, b, bOffset + i, m), acc);
    }
    return tree16(acc, new float[16]);
  }

  /** Sixteen lanes in two 256-bit vectors: virtual lanes 0-7 and 8-15. */
  static float vector8(float[] a, int aOffset, float[] b, int bOffset, int n) {
    FloatVector lo = FloatVector.zero(F8);
    FloatVector hi = FloatVector.zero(F8);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      lo = FloatVector.fromArray(F8, a, aOffset + i).fma(FloatVector.fromArray(F8, b, bOffset + i), lo);
      hi = FloatVector.fromArray(F8, a, aOffset + i + 8).fma(FloatVector.fromArray(F8, b, bOffset + i + 8), hi);
    }
    if (i < n) {
      VectorMask<Float> m = F8.indexInRange(i, n);
      lo = FloatVector.fromArray(F8, a, aOffset + i, m).fma(FloatVector.fromArray(F8, b, bOffset + i, m), lo);
      VectorMask<Float> h = F8.indexInRange(i + 8, n);
      hi = FloatVector.fromArray(F8, a, aOffset + i + 8, h).fma(FloatVector.fromArray(F8, b, bOffset + i + 8, h), hi);
    }
    return tree8(lo.add(hi), new float[8]);
  }

  /**
   * Eight two-segment dot products at once on 512-bit vectors, each in {@link #scalar}'s order:
   * row {@code j < 4} is {@code a} at {@code ao[j]} (n values) then {@code c} at {@code co[j]} (m
   * values); they meet {@code b} at {@code b0} then {@code d} at {@code d0} (position 0), and
   * {@code b} at {@code b1} then {@code d} at {@code d1} (position 1); {@code out[2 * j + p]} is
   * row {@code j} against position {@code p}. Eight independent chains keep the FMA units busy;
   * {@code tmp} holds 128 floats.
   *
   * <p>Two methods, one per segment, with the eight chains handed over exactly in {@code tmp}: C1
   * runs out of virtual registers on the two segments in one method, and JDK 25 then left that
   * method in tier-2 code, where every vector operation allocates (batch-1 decode fell to half
   * speed as the cache grew).
   */
  static void tile16(
      float[] a, int[] ao, float[] b, int b0, int b1, int n, float[] c, int[] co, float[] d, int d0, int d1, int m,
      float[] out, float[] tmp) {
    firstSegment16(a, ao, b, b0, b1, n, tmp);
    secondSegment16(c, co, d, d0, d1, m, out, tmp);
  }

  /** {@link #tile16}'s first segment: the eight chains from zero, left in {@code chains[16 * k ..]}. */
  private static void firstSegment16(float[] a, int[] ao, float[] b, int b0, int b1, int n, float[] chains) {
    FloatVector s00 = FloatVector.zero(F16), s01 = s00, s10 = s00, s11 = s00;
    FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      FloatVector x = FloatVector.fromArray(F16, b, b0 + i);
      FloatVector y = FloatVector.fromArray(F16, b, b1 + i);
      FloatVector q0 = FloatVector.fromArray(F16, a, ao[0] + i);
      s00 = q0.fma(x, s00);
      s01 = q0.fma(y, s01);
      FloatVector q1 = FloatVector.fromArray(F16, a, ao[1] + i);
      s10 = q1.fma(x, s10);
      s11 = q1.fma(y, s11);
      FloatVector q2 = FloatVector.fromArray(F16, a, ao[2] + i);
      s20 = q2.fma(x, s20);
      s21 = q2.fma(y, s21);
      FloatVector q3 = FloatVector.fromArray(F16, a, ao[3] + i);
      s30 = q3.fma(x, s30);
      s31 = q3.fma(y, s31);
    }
    if (i < n) {
      // remaining entries: masked lanes load zeros, and fma(0, 0, acc) is acc
      VectorMask<Float> k = F16.indexInRange(i, n);
      FloatVector x = FloatVector.fromArray(F16, b, b0 + i, k);
      FloatVector y = FloatVector.fromArray(F16, b, b1 + i, k);
      FloatVector q0 = FloatVector.fromArray(F16, a, ao[0] + i, k);
      s00 = q0.fma(x, s00);
      s01 = q0.fma(y, s01);
      FloatVector q1 = FloatVector.fromArray(F16, a, ao[1] + i, k);
      s10 = q1.fma(x, s10);
      s11 = q1.fma(y, s11);
      FloatVector q2 = FloatVector.fromArray(F16, a, ao[2] + i, k);
      s20 = q2.fma(x, s20);
      s21 = q2.fma(y, s21);
      FloatVector q3 = FloatVector.fromArray(F16, a, ao[3] + i, k);
      s30 = q3.fma(x, s30);
      s31 = q3.fma(y, s31);
    }
    s00.intoArray(chains, 0);
    s01.intoArray(chains, 16);
    s10.intoArray(chains, 32);
    s11.intoArray(chains, 48);
    s20.intoArray(chains, 64);
    s21.intoArray(chains, 80);
    s30.intoArray(chains, 96);
    s31.intoArray(chains, 112);
  }

  /** {@link #tile16}'s second segment: the chains on from {@code chains}, then each one's tree. */
  private static void secondSegment16(float[] c, int[] co, float[] d, int d0, int d1, int m, float[] out, float[] chains) {
    FloatVector s00 = FloatVector.fromArray(F16, chains, 0);
    FloatVector s01 = FloatVector.fromArray(F16, chains, 16);
    FloatVector s10 = FloatVector.fromArray(F16, chains, 32);
    FloatVector s11 = FloatVector.fromArray(F16, chains, 48);
    FloatVector s20 = FloatVector.fromArray(F16, chains, 64);
    FloatVector s21 = FloatVector.fromArray(F16, chains, 80);
    FloatVector s30 = FloatVector.fromArray(F16, chains, 96);
    FloatVector s31 = FloatVector.fromArray(F16, chains, 112);
    int i = 0;
    for (; i + 16 <= m; i += 16) {
      FloatVector x = FloatVector.fromArray(F16, d, d0 + i);
      FloatVector y = FloatVector.fromArray(F16, d, d1 + i);
      FloatVector q0 = FloatVector.fromArray(F16, c, co[0] + i);
      s00 = q0.fma(x, s00);
      s01 = q0.fma(y, s01);
      FloatVector q1 = FloatVector.fromArray(F16, c, co[1] + i);
      s10 = q1.fma(x, s10);
      s11 = q1.fma(y, s11);
      FloatVector q2 = FloatVector.fromArray(F16, c, co[2] + i);
      s20 = q2.fma(x, s20);
      s21 = q2.fma(y, s21);
      FloatVector q3 = FloatVector.fromArray(F16, c, co[3] + i);
      s30 = q3.fma(x, s30);
      s31 = q3.fma(y, s31);
    }
    if (i < m) {
      // remaining entries: masked lanes load zeros, and fma(0, 0, acc) is acc
      VectorMask<Float> k = F16.indexInRange(i, m);
      FloatVector x = FloatVector.fromArray(F16, d, d0 + i, k);
      FloatVector y = FloatVector.fromArray(F16, d, d1 + i, k);
      FloatVector q0 = FloatVector.fromArray(F16, c, co[0] + i, k);
      s00 = q0.fma(x, s00);
      s01 = q0.fma(y, s01);
      FloatVector q1 = FloatVector.fromArray(F16, c, co[1] + i, k);
      s10 = q1.fma(x, s10);
      s11 = q1.fma(y, s11);
      FloatVector q2 = FloatVector.fromArray(F16, c, co[2] + i, k);
      s20 = q2.fma(x, s20);
      s21 = q2.fma(y, s21);
      FloatVector q3 = FloatVector.fromArray(F16, c, co[3] + i, k);
      s30 = q3.fma(x, s30);
      s31 = q3.fma(y, s31);
    }
    // the eight trees at once, each level a blend, a swap of lanes and an add: level by level,
    // each addition adds the same two partial sums as tree16's (a + b and b + a are the same bits)
    VectorMask<Float> high8 = TreeLanes.HIGH8;
    VectorMask<Float> odd4 = TreeLanes.ODD4;
    VectorMask<Float> odd2 = TreeLanes.ODD2;
    VectorShuffle<Float> swap8 = TreeLanes.SWAP8;
    VectorShuffle<Float> swap4 = TreeLanes.SWAP4;
    VectorShuffle<Float> swap2 = TreeLanes.SWAP2;
    VectorShuffle<Float> swap1 = TreeLanes.SWAP1;
    FloatVector x0 = s00.blend(s01, high8).add(s01.blend(s00, high8).rearrange(swap8)); // w: s00 | s01
    FloatVector x1 = s10.blend(s11, high8).add(s11.blend(s10, high8).rearrange(swap8));
    FloatVector x2 = s20.blend(s21, high8).add(s21.blend(s20, high8).rearrange(swap8));
    FloatVector x3 = s30.blend(s31, high8).add(s31.blend(s30, high8).rearrange(swap8));
    FloatVector y0 = x0.blend(x1, odd4).add(x1.blend(x0, odd4).rearrange(swap4)); // u: s00 s10 | s01 s11
    FloatVector y1 = x2.blend(x3, odd4).add(x3.blend(x2, odd4).rearrange(swap4)); // u: s20 s30 | s21 s31
    FloatVector v = y0.blend(y1, odd2).add(y1.blend(y0, odd2).rearrange(swap2)); // v: s00 s20 s10 s30 | s01 ...
    v.add(v.rearrange(swap1)).intoArray(chains, 0); // the sums in the even lanes
    out[0] = chains[0];
    out[1] = chains[8];
    out[2] = chains[4];
    out[3] = chains[12];
    out[4] = chains[2];
    out[5] = chains[10];
    out[6] = chains[6];
    out[7] = chains[14];
  }

  /**
   * Four two-segment dot products at once on 256-bit vectors (each sixteen lanes in two halves),
   * in {@link #scalar}'s order: row {@code j} ({@code a} at {@code ao[j]}, then {@code c} at {@code
   * co[j]}) against {@code b} at {@code b0} then {@code d} at {@code d0}; {@code out[2 * j]} is row
   * {@code j}'s; {@code tmp} holds sixteen floats.
   */
  static void tile8(
      float[] a, int[] ao, float[] b, int b0, int n, float[] c, int[] co, float[] d, int d0, int m, float[] out,
      float[] tmp) {
    FloatVector l0 = FloatVector.zero(F8), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
    int i;
    for (i = 0; i + 16 <= n; i += 16) {
      FloatVector xl = FloatVector.fromArray(F8, b, b0 + i);
      FloatVector xh = FloatVector.fromArray(F8, b, b0 + i + 8);
      l0 = FloatVector.fromArray(F8, a, ao[0] + i).fma(xl, l0);
      h0 = FloatVector.fromArray(F8, a, ao[0] + i + 8).fma(xh, h0);
      l1 = FloatVector.fromArray(F8, a, ao[1] + i).fma(xl, l1);
      h1 = FloatVector.fromArray(F8, a, ao[1] + i + 8).fma(xh, h1);
      l2 = FloatVector.fromArray(F8, a, ao[2] + i).fma(xl, l2);
      h2 = FloatVector.fromArray(F8, a, ao[2] + i + 8).fma(xh, h2);
      l3 = FloatVector.fromArray(F8, a, ao[3] + i).fma(xl, l3);
      h3 = FloatVector.fromArray(F8, a, ao[3] + i + 8).fma(xh, h3);
    }
    if (i < n) {
      VectorMask<Float> k = F8.indexInRange(i, n);
      VectorMask<Float> kh = F8.indexInRange(i + 8, n);
      FloatVector xl = FloatVector.fromArray(F8, b, b0 + i, k);
      FloatVector xh = FloatVector.fromArray(F8, b, b0 + i + 8, kh);
      l0 = FloatVector.fromArray(F8, a, ao[0] + i, k).fma(xl, l0);
      h0 = FloatVector.fromArray(F8, a, ao[0] + i + 8, kh).fma(xh, h0);
      l1 = FloatVector.fromArray(F8, a, ao[1] + i, k).fma(xl, l1);
      h1 = FloatVector.fromArray(F8, a, ao[1] + i + 8, kh).fma(xh, h1);
      l2 = FloatVector.fromArray(F8, a, ao[2] + i, k).fma(xl, l2);
      h2 = FloatVector.fromArray(F8, a, ao[2] + i + 8, kh).fma(xh, h2);
      l3 = FloatVector.fromArray(F8, a, ao[3] + i, k).fma(xl, l3);
      h3 = FloatVector.fromArray(F8, a, ao[3] + i + 8, kh).fma(xh, h3);
    }
    for (i = 0; i + 16 <= m; i += 16) {
      FloatVector xl = FloatVector.fromArray(F8, d, d0 + i);
      FloatVector xh = FloatVector.fromArray(F8, d, d0 + i + 8);
      l0 = FloatVector.fromArray(F8, c, co[0] + i).fma(xl, l0);
      h0 = FloatVector.fromArray(F8, c, co[0] + i + 8).fma(xh, h0);
      l1 = FloatVector.fromArray(F8, c, co[1] + i).fma(xl, l1);
      h1 = FloatVector.fromArray(F8, c, co[1] + i + 8).fma(xh, h1);
      l2 = FloatVector.fromArray(F8, c, co[2] + i).fma(xl, l2);
      h2 = FloatVector.fromArray(F8, c, co[2] + i + 8).fma(xh, h2);
      l3 = FloatVector.fromArray(F8, c, co[3] + i).fma(xl, l3);
      h3 = FloatVector.fromArray(F8, c, co[3] + i + 8).fma(xh, h3);
    }
    if (i < m) {
      VectorMask<Float> k = F8.indexInRange(i, m);
      VectorMask<Float> kh = F8.indexInRange(i + 8, m);
      FloatVector xl = FloatVector.fromArray(F8, d, d0 + i, k);
      FloatVector xh = FloatVector.fromArray(F8, d, d0 + i + 8, kh);
      l0 = FloatVector.fromArray(F8, c, co[0] + i, k).fma(xl, l0);
      h0 = FloatVector.fromArray(F8, c, co[0] + i + 8, kh).fma(xh, h0);
      l1 = FloatVector.fromArray(F8, c, co[1] + i, k).fma(xl, l1);
      h1 = FloatVector.fromArray(F8, c, co[1] + i + 8, kh).fma(xh, h1);
      l2 = FloatVector.fromArray(F8, c, co[2] + i, k).fma(xl, l2);
      h2 = FloatVector.fromArray(F8, c, co[2] + i + 8, kh).fma(xh, h2);
      l3 = FloatVector.fromArray(F8, c, co[3] + i, k).fma(xl, l3);
      h3 = FloatVector.fromArray(F8, c, co[3] + i + 8, kh).fma(xh, h3);
    }
    out[0] = tree8(l0.add(h0), tmp);
    out[2] = tree8(l1.add(h1), tmp);
    out[4] = tree8(l2.add(h2), tmp);
    out[6] = tree8(l3.add(h3), tmp);
  }

  /**
   * The tree of sixteen lanes {@code l}: {@code w[j] = l[j] + l[j + 8]}, then {@code ((w0 + w4) +
   * (w2 + w6)) + ((w1 + w5) + (w3 + w7))}. Through an array: the Vector API's lane shuffles
   * ({@code slice}) are not intrinsified by every JDK and cost more than these fifteen adds.
   */
  private static float tree16(FloatVector lanes, float[] tmp) {
    lanes.intoArray(tmp, 0);
    return tree(tmp[0] + tmp[8], tmp[1] + tmp[9], tmp[2] + tmp[10], tmp[3] + tmp[11], tmp[4] + tmp[12],
        tmp[5] + tmp[13], tmp[6] + tmp[14], tmp[7] + tmp[15]);
  }

  /** {@link #tree16} of two halves: lanes 0-7 and 8-15 already added lane-wise in {@code w}. */
  private static float tree8(FloatVector w, float[] tmp) {
    w.intoArray(tmp, 0);
    return tree(tmp[0], tmp[1], tmp[2], tmp[3], tmp[4], tmp[5], tmp[6], tmp[7]);
  }

  private static float tree(float w0, float w1, float w2, float w3, float w4, float w5, float w6, float w7) {
    return ((w0 + w4) + (w2 + w6)) + ((w1 + w5) + (w3 + w7));
  }
}
