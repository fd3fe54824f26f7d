package io.moeflink.engine.kernel;

import java.util.Arrays;
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

  /** Floats of {@link #tile44}'s scratch: sixteen chains of sixteen lanes. */
  static final int TILE44_CHAINS = 256;
  /**
   * Whether {@link #tile44} keeps its chains in registers from the first segment through the
   * second ({@link #whole44}), or runs each segment on its own, the chains from memory and back
   * ({@link #segment44}). JDK 17's C2 now and then typed the last five chains leaving the second
   * loop as any {@code FloatVector} ({@code -XX:+PrintInlining}: their stores {@code failed to
   * inline (intrinsic)}, after a type-profile guard), boxed them in every step, and the run spent
   * 280-1000 collections with prefill at a tenth to two thirds of its speed, in 4 of 9 quick runs
   * under {@code -XX:+PrintInlining} and about 1 in 5 without. JDK 25 gains 0.49 -> 0.51 of the
   * FMA peak at 1x2048 from the registers; the JDKs between are not measured and take the segments.
   */
  private static final boolean CHAINS_IN_REGISTERS = Runtime.version().feature() >= 25;

  private Dot16() {}

  /**
   * The masks and swaps of the trees in 512-bit lanes, made on first use: an AVX2 machine never
   * makes them (a vector of a shape the kernels do not use cost JDK 17's C2 its constant vector
   * classes in the API's shared methods once, docs/benchmarks.md).
   */
  private static final class TreeLanes {
    /** Lanes 8-15, 4-7 and 12-15, every other pair; swaps of lanes 8, 4, 2 and 1 apart. */
    static final VectorMask<Float> HIGH8 = VectorMask.fromLong(F16, 0xFF00L);
    static final VectorMask<Float> ODD4 = VectorMask.fromLong(F16, 0xF0F0L);
    static final VectorMask<Float> ODD2 = VectorMask.fromLong(F16, 0xCCCCL);
    static final VectorMask<Float> ODD1 = VectorMask.fromLong(F16, 0xAAAAL);
    static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromOp(F16, i -> i ^ 8);
    static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(F16, i -> i ^ 4);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(F16, i -> i ^ 2);
    static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(F16, i -> i ^ 1);

    /**
     * {@link #tile44}'s sixteen sums in order: lane {@code 4 * h + p} takes the tree's lane of head
     * {@code h} and position {@code p}, head bits from lanes 1 and 2, position bits from 8 and 4.
     */
    static final VectorShuffle<Float> HEAD_POSITION =
        VectorShuffle.fromOp(F16, k -> ((k >> 3) & 1) | ((k >> 1) & 2) | ((k << 3) & 8) | ((k << 1) & 4));

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
   * Sixteen two-segment dot products at once on 512-bit vectors, each in {@link #scalar}'s order:
   * row {@code j < 4} ({@code a} at {@code ao[j]}, n values, then {@code c} at {@code co[j]}, m
   * values) against position {@code p < 4} ({@code b} at {@code at[p]}, then {@code d} at {@code
   * at[4 + p]}) into {@code out[4 * j + p]}. Sixteen independent chains, twice what the FMA latency
   * needs, and each load of a position or a row feeds four of them (eight chains waited on the
   * loads: 0.2-0.28 of the FMA peak at 2048 positions). {@code tmp} holds {@link #TILE44_CHAINS}
   * floats. Segments whose lengths are not multiples of 16 (small test models only: MLA's latent
   * rank and rotary dimension are) take {@link #scalar}, the same order one product at a time.
   */
  static void tile44(
      float[] a, int[] ao, float[] b, int[] at, int n, float[] c, int[] co, float[] d, int m,
      float[] out, float[] tmp) {
    if (n % 16 == 0 && m % 16 == 0) {
      if (CHAINS_IN_REGISTERS) {
        whole44(a, ao, b, at, n, c, co, d, m, tmp);
      } else {
        Arrays.fill(tmp, 0, TILE44_CHAINS, 0f); // the chains start from these zeros
        segment44(a, ao, b, at, 0, n, tmp);
        segment44(c, co, d, at, 4, m, tmp);
      }
      trees44(tmp, out);
      return;
    }
    for (int j = 0; j < 4; j++) {
      for (int p = 0; p < 4; p++) {
        out[4 * j + p] = scalar(a, ao[j], b, at[p], n, c, co[j], d, at[4 + p], m);
      }
    }
  }

  /**
   * Both segments of {@link #tile44}, each a multiple of 16 long, on JDK 25 and later ({@link
   * #CHAINS_IN_REGISTERS}): the chains start from zero in registers and stay there from the first
   * segment to the second, then go to {@code chains} for the trees. Until 2026-12-07 each segment was a method of its own that took the chains from
   * memory and left them there (64 vector loads and stores for a tile's 320 vector multiply-adds
   * at rank 256; prefill 1x2048 0.49 -> 0.51 of the FMA peak without them). The stores are written
   * out, not a call: with a call of sixteen vector arguments, C2 (JDK 25) stopped inlining before
   * it and boxed them. The two loops are written out too: as one loop run twice over the segments'
   * arrays, JDK 17's C2 boxed the chains (757 collections in a quick run, 0.08 of the peak).
   */
  private static void whole44(
      float[] a, int[] ao, float[] b, int[] at, int n, float[] c, int[] co, float[] d, int m, float[] chains) {
    FloatVector s00 = FloatVector.zero(F16), s01 = s00, s02 = s00, s03 = s00;
    FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
    FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
    int b0 = at[0], b1 = at[1], b2 = at[2], b3 = at[3];
    int a0 = ao[0], a1 = ao[1], a2 = ao[2], a3 = ao[3];
    for (int i = 0; i < n; i += 16) {
      FloatVector x0 = FloatVector.fromArray(F16, b, b0 + i);
      FloatVector x1 = FloatVector.fromArray(F16, b, b1 + i);
      FloatVector x2 = FloatVector.fromArray(F16, b, b2 + i);
      FloatVector x3 = FloatVector.fromArray(F16, b, b3 + i);
      FloatVector q = FloatVector.fromArray(F16, a, a0 + i);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      s02 = q.fma(x2, s02);
      s03 = q.fma(x3, s03);
      q = FloatVector.fromArray(F16, a, a1 + i);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      s12 = q.fma(x2, s12);
      s13 = q.fma(x3, s13);
      q = FloatVector.fromArray(F16, a, a2 + i);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      s22 = q.fma(x2, s22);
      s23 = q.fma(x3, s23);
      q = FloatVector.fromArray(F16, a, a3 + i);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
      s32 = q.fma(x2, s32);
      s33 = q.fma(x3, s33);
    }
    b0 = at[4];
    b1 = at[5];
    b2 = at[6];
    b3 = at[7];
    a0 = co[0];
    a1 = co[1];
    a2 = co[2];
    a3 = co[3];
    for (int i = 0; i < m; i += 16) {
      FloatVector x0 = FloatVector.fromArray(F16, d, b0 + i);
      FloatVector x1 = FloatVector.fromArray(F16, d, b1 + i);
      FloatVector x2 = FloatVector.fromArray(F16, d, b2 + i);
      FloatVector x3 = FloatVector.fromArray(F16, d, b3 + i);
      FloatVector q = FloatVector.fromArray(F16, c, a0 + i);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      s02 = q.fma(x2, s02);
      s03 = q.fma(x3, s03);
      q = FloatVector.fromArray(F16, c, a1 + i);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      s12 = q.fma(x2, s12);
      s13 = q.fma(x3, s13);
      q = FloatVector.fromArray(F16, c, a2 + i);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      s22 = q.fma(x2, s22);
      s23 = q.fma(x3, s23);
      q = FloatVector.fromArray(F16, c, a3 + i);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
      s32 = q.fma(x2, s32);
      s33 = q.fma(x3, s33);
    }
    s00.intoArray(chains, 0);
    s01.intoArray(chains, 16);
    s02.intoArray(chains, 32);
    s03.intoArray(chains, 48);
    s10.intoArray(chains, 64);
    s11.intoArray(chains, 80);
    s12.intoArray(chains, 96);
    s13.intoArray(chains, 112);
    s20.intoArray(chains, 128);
    s21.intoArray(chains, 144);
    s22.intoArray(chains, 160);
    s23.intoArray(chains, 176);
    s30.intoArray(chains, 192);
    s31.intoArray(chains, 208);
    s32.intoArray(chains, 224);
    s33.intoArray(chains, 240);
  }

  /**
   * Entries {@code [0, n)} ({@code n} a multiple of 16) of one segment of {@link #tile44}: row
   * {@code j} at {@code ao[j]}, position {@code p} at {@code at[k + p]}; chain {@code (j, p)} goes
   * on from {@code chains[16 * (4 * j + p) ..]} and is left there. Its loop is {@link #whole44}'s,
   * written out again: a helper for both would take and return sixteen vectors, which C2 boxes.
   */
  private static void segment44(float[] a, int[] ao, float[] b, int[] at, int k, int n, float[] chains) {
    FloatVector s00 = FloatVector.fromArray(F16, chains, 0), s01 = FloatVector.fromArray(F16, chains, 16);
    FloatVector s02 = FloatVector.fromArray(F16, chains, 32), s03 = FloatVector.fromArray(F16, chains, 48);
    FloatVector s10 = FloatVector.fromArray(F16, chains, 64), s11 = FloatVector.fromArray(F16, chains, 80);
    FloatVector s12 = FloatVector.fromArray(F16, chains, 96), s13 = FloatVector.fromArray(F16, chains, 112);
    FloatVector s20 = FloatVector.fromArray(F16, chains, 128), s21 = FloatVector.fromArray(F16, chains, 144);
    FloatVector s22 = FloatVector.fromArray(F16, chains, 160), s23 = FloatVector.fromArray(F16, chains, 176);
    FloatVector s30 = FloatVector.fromArray(F16, chains, 192), s31 = FloatVector.fromArray(F16, chains, 208);
    FloatVector s32 = FloatVector.fromArray(F16, chains, 224), s33 = FloatVector.fromArray(F16, chains, 240);
    int b0 = at[k], b1 = at[k + 1], b2 = at[k + 2], b3 = at[k + 3];
    int a0 = ao[0], a1 = ao[1], a2 = ao[2], a3 = ao[3];
    for (int i = 0; i < n; i += 16) {
      FloatVector x0 = FloatVector.fromArray(F16, b, b0 + i);
      FloatVector x1 = FloatVector.fromArray(F16, b, b1 + i);
      FloatVector x2 = FloatVector.fromArray(F16, b, b2 + i);
      FloatVector x3 = FloatVector.fromArray(F16, b, b3 + i);
      FloatVector q = FloatVector.fromArray(F16, a, a0 + i);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      s02 = q.fma(x2, s02);
      s03 = q.fma(x3, s03);
      q = FloatVector.fromArray(F16, a, a1 + i);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      s12 = q.fma(x2, s12);
      s13 = q.fma(x3, s13);
      q = FloatVector.fromArray(F16, a, a2 + i);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      s22 = q.fma(x2, s22);
      s23 = q.fma(x3, s23);
      q = FloatVector.fromArray(F16, a, a3 + i);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
      s32 = q.fma(x2, s32);
      s33 = q.fma(x3, s33);
    }
    s00.intoArray(chains, 0);
    s01.intoArray(chains, 16);
    s02.intoArray(chains, 32);
    s03.intoArray(chains, 48);
    s10.intoArray(chains, 64);
    s11.intoArray(chains, 80);
    s12.intoArray(chains, 96);
    s13.intoArray(chains, 112);
    s20.intoArray(chains, 128);
    s21.intoArray(chains, 144);
    s22.intoArray(chains, 160);
    s23.intoArray(chains, 176);
    s30.intoArray(chains, 192);
    s31.intoArray(chains, 208);
    s32.intoArray(chains, 224);
    s33.intoArray(chains, 240);
  }

  /**
   * {@link #tile44}'s sixteen trees at once, each level a blend, a swap of lanes and an add: positions
   * paired at lanes 8 and 4 apart, then heads at 2 and 1; every addition adds the same two partial
   * sums as {@link #tree16}'s ({@code a + b} and {@code b + a} are the same bits).
   */
  private static void trees44(float[] chains, float[] out) {
    VectorMask<Float> high8 = TreeLanes.HIGH8;
    VectorShuffle<Float> swap8 = TreeLanes.SWAP8;
    FloatVector w00 = level(chains, 0, 16, high8, swap8), w01 = level(chains, 32, 48, high8, swap8);
    FloatVector w10 = level(chains, 64, 80, high8, swap8), w11 = level(chains, 96, 112, high8, swap8);
    FloatVector w20 = level(chains, 128, 144, high8, swap8), w21 = level(chains, 160, 176, high8, swap8);
    FloatVector w30 = level(chains, 192, 208, high8, swap8), w31 = level(chains, 224, 240, high8, swap8);
    VectorMask<Float> odd4 = TreeLanes.ODD4;
    VectorShuffle<Float> swap4 = TreeLanes.SWAP4;
    FloatVector u0 = w00.blend(w01, odd4).add(w01.blend(w00, odd4).rearrange(swap4)); // head 0, positions 0-3
    FloatVector u1 = w10.blend(w11, odd4).add(w11.blend(w10, odd4).rearrange(swap4));
    FloatVector u2 = w20.blend(w21, odd4).add(w21.blend(w20, odd4).rearrange(swap4));
    FloatVector u3 = w30.blend(w31, odd4).add(w31.blend(w30, odd4).rearrange(swap4));
    VectorMask<Float> odd2 = TreeLanes.ODD2;
    VectorShuffle<Float> swap2 = TreeLanes.SWAP2;
    FloatVector v01 = u0.blend(u1, odd2).add(u1.blend(u0, odd2).rearrange(swap2)); // heads 0 and 1
    FloatVector v23 = u2.blend(u3, odd2).add(u3.blend(u2, odd2).rearrange(swap2));
    VectorMask<Float> odd1 = TreeLanes.ODD1;
    FloatVector sums = v01.blend(v23, odd1).add(v23.blend(v01, odd1).rearrange(TreeLanes.SWAP1));
    sums.rearrange(TreeLanes.HEAD_POSITION).intoArray(out, 0);
  }

  /** Chains at {@code p} and {@code q} to their first level: lanes 0-7 of {@code p}'s, 8-15 of {@code q}'s. */
  private static FloatVector level(float[] chains, int p, int q, VectorMask<Float> high8, VectorShuffle<Float> swap8) {
    FloatVector x = FloatVector.fromArray(F16, chains, p);
    FloatVector y = FloatVector.fromArray(F16, chains, q);
    return x.blend(y, high8).add(y.blend(x, high8).rearrange(swap8));
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
   * {@link #tile8} at two positions: row {@code j} ({@code a} at {@code ao[j]}, then {@code c} at
   * {@code co[j]}) against position {@code p} ({@code b} at {@code b0} or {@code b1}, then {@code
   * d} at {@code d0} or {@code d1}); {@code out[2 * j + p]} is row {@code j}'s at position {@code
   * p}, {@code tmp} holds 64 floats. The eight dot products' lanes 0-7 run first, through both
   * segments, then their lanes 8-15: eight chains at a time, which leave registers for both
   * positions' keys, where {@link #tile8}'s eight half chains of one position load ten vectors for
   * eight multiply-adds. Each lane is {@link #scalar}'s chain, so the bits are {@link #tile8}'s.
   */
  static void tile8x2(float[] a, int[] ao, float[] b, int b0, int b1, int n, float[] c, int[] co, float[] d, int d0,
      int d1, int m, float[] out, float[] tmp) {
    halves8x2(a, ao, b, b0, b1, n, c, co, d, d0, d1, m, 0, tmp);
    halves8x2(a, ao, b, b0, b1, n, c, co, d, d0, d1, m, 8, tmp);
    for (int s = 0; s < 8; s++) {
      int w = 8 * s;
      out[s] = tree(tmp[w], tmp[w + 1], tmp[w + 2], tmp[w + 3], tmp[w + 4], tmp[w + 5], tmp[w + 6], tmp[w + 7]);
    }
  }

  /**
   * Lanes {@code [half, half + 8)} of {@link #tile8x2}'s eight dot products: lanes 0-7 into {@code
   * tmp}, dot product {@code 2 * j + p}'s at {@code 8 * (2 * j + p)}; lanes 8-15 added to them
   * there, lane-wise (the tree's first level).
   */
  private static void halves8x2(float[] qa, int[] ao, float[] b, int b0, int b1, int n, float[] qc, int[] co,
      float[] d, int d0, int d1, int m, int half, float[] tmp) {
    FloatVector s00 = FloatVector.zero(F8), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    int a0 = ao[0] + half;
    int a1 = ao[1] + half;
    int a2 = ao[2] + half;
    int a3 = ao[3] + half;
    int bb0 = b0 + half;
    int bb1 = b1 + half;
    int i;
    for (i = 0; i + 16 <= n; i += 16) {
      FloatVector x0 = FloatVector.fromArray(F8, b, bb0 + i);
      FloatVector x1 = FloatVector.fromArray(F8, b, bb1 + i);
      FloatVector q = FloatVector.fromArray(F8, qa, a0 + i);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      q = FloatVector.fromArray(F8, qa, a1 + i);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      q = FloatVector.fromArray(F8, qa, a2 + i);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      q = FloatVector.fromArray(F8, qa, a3 + i);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
    }
    if (i < n) {
      VectorMask<Float> k = F8.indexInRange(i + half, n);
      FloatVector x0 = FloatVector.fromArray(F8, b, bb0 + i, k);
      FloatVector x1 = FloatVector.fromArray(F8, b, bb1 + i, k);
      FloatVector q = FloatVector.fromArray(F8, qa, a0 + i, k);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      q = FloatVector.fromArray(F8, qa, a1 + i, k);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      q = FloatVector.fromArray(F8, qa, a2 + i, k);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      q = FloatVector.fromArray(F8, qa, a3 + i, k);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
    }
    int c0 = co[0] + half;
    int c1 = co[1] + half;
    int c2 = co[2] + half;
    int c3 = co[3] + half;
    int dd0 = d0 + half;
    int dd1 = d1 + half;
    for (i = 0; i + 16 <= m; i += 16) {
      FloatVector x0 = FloatVector.fromArray(F8, d, dd0 + i);
      FloatVector x1 = FloatVector.fromArray(F8, d, dd1 + i);
      FloatVector q = FloatVector.fromArray(F8, qc, c0 + i);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      q = FloatVector.fromArray(F8, qc, c1 + i);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      q = FloatVector.fromArray(F8, qc, c2 + i);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      q = FloatVector.fromArray(F8, qc, c3 + i);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
    }
    if (i < m) {
      VectorMask<Float> k = F8.indexInRange(i + half, m);
      FloatVector x0 = FloatVector.fromArray(F8, d, dd0 + i, k);
      FloatVector x1 = FloatVector.fromArray(F8, d, dd1 + i, k);
      FloatVector q = FloatVector.fromArray(F8, qc, c0 + i, k);
      s00 = q.fma(x0, s00);
      s01 = q.fma(x1, s01);
      q = FloatVector.fromArray(F8, qc, c1 + i, k);
      s10 = q.fma(x0, s10);
      s11 = q.fma(x1, s11);
      q = FloatVector.fromArray(F8, qc, c2 + i, k);
      s20 = q.fma(x0, s20);
      s21 = q.fma(x1, s21);
      q = FloatVector.fromArray(F8, qc, c3 + i, k);
      s30 = q.fma(x0, s30);
      s31 = q.fma(x1, s31);
    }
    if (half == 0) {
      s00.intoArray(tmp, 0);
      s01.intoArray(tmp, 8);
      s10.intoArray(tmp, 16);
      s11.intoArray(tmp, 24);
      s20.intoArray(tmp, 32);
      s21.intoArray(tmp, 40);
      s30.intoArray(tmp, 48);
      s31.intoArray(tmp, 56);
    } else { // the tree's first level: lane j + lane j + 8
      s00.add(FloatVector.fromArray(F8, tmp, 0)).intoArray(tmp, 0);
      s01.add(FloatVector.fromArray(F8, tmp, 8)).intoArray(tmp, 8);
      s10.add(FloatVector.fromArray(F8, tmp, 16)).intoArray(tmp, 16);
      s11.add(FloatVector.fromArray(F8, tmp, 24)).intoArray(tmp, 24);
      s20.add(FloatVector.fromArray(F8, tmp, 32)).intoArray(tmp, 32);
      s21.add(FloatVector.fromArray(F8, tmp, 40)).intoArray(tmp, 40);
      s30.add(FloatVector.fromArray(F8, tmp, 48)).intoArray(tmp, 48);
      s31.add(FloatVector.fromArray(F8, tmp, 56)).intoArray(tmp, 56);
    }
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
