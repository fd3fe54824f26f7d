package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles for 8 float lanes (AVX2), on the sixteen registers: six, five or four tokens x 16
 * rows (half a run's 32 rows: two weight vectors, a broadcast, and up to twelve accumulators), and
 * for the last tokens three, two or one x 32 rows. Six tokens x 16 rows leave C2 the registers that
 * three x 32 rows (twelve accumulators and four weight vectors) do not: alone on an L1-resident
 * run, one thread on Zen 3, 86 GFLOP/s against 40 on JDK 25; on JDK 17 six spill (38) and five
 * reach 70 ({@code RowBlockMatmul}).
 *
 * <p>Each tile multiplies a staged run of widened weights {@code b} ({@code (kc, 32)}) by its
 * tokens' activations and adds into their outputs: per column, one weight vector load
 * feeds every token's fused multiply-add, each accumulator's chain runs over the columns in order.
 * The tiles are unrolled in full and kept apart: a method that inlines several grows past C2's
 * inlining budget, and a Vector API call that is not inlined boxes its vectors and runs ten times
 * slower.
 */
final class Tiles8 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

  private Tiles8() {}

  /**
   * 6 tokens x 16 rows, the half of the run's 32 rows from lane {@code half} (0 or 16): token
   * {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into {@code y[y0 + t * yStride ..]}.
   */
  static void t6x16(
      float[] b, int half, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    FloatVector a20, a21;
    FloatVector a30, a31;
    FloatVector a40, a41;
    FloatVector a50, a51;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a20 = FloatVector.zero(F);
      a21 = FloatVector.zero(F);
      a30 = FloatVector.zero(F);
      a31 = FloatVector.zero(F);
      a40 = FloatVector.zero(F);
      a41 = FloatVector.zero(F);
      a50 = FloatVector.zero(F);
      a51 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 8);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 8);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 8);
      a40 = FloatVector.fromArray(F, y, y0 + 4 * yStride);
      a41 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 8);
      a50 = FloatVector.fromArray(F, y, y0 + 5 * yStride);
      a51 = FloatVector.fromArray(F, y, y0 + 5 * yStride + 8);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    int x4 = x0 + 4 * xStride;
    int x5 = x0 + 5 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32 + half;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v.fma(w0, a00);
      a01 = v.fma(w1, a01);
      v = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v.fma(w0, a10);
      a11 = v.fma(w1, a11);
      v = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v.fma(w0, a20);
      a21 = v.fma(w1, a21);
      v = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v.fma(w0, a30);
      a31 = v.fma(w1, a31);
      v = FloatVector.broadcast(F, x[x4 + k]);
      a40 = v.fma(w0, a40);
      a41 = v.fma(w1, a41);
      v = FloatVector.broadcast(F, x[x5 + k]);
      a50 = v.fma(w0, a50);
      a51 = v.fma(w1, a51);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 8);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 8);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 8);
    a40.intoArray(y, y0 + 4 * yStride);
    a41.intoArray(y, y0 + 4 * yStride + 8);
    a50.intoArray(y, y0 + 5 * yStride);
    a51.intoArray(y, y0 + 5 * yStride + 8);
  }

  /**
   * 5 tokens x 16 rows, the half of the run's 32 rows from lane {@code half} (0 or 16): token
   * {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into {@code y[y0 + t * yStride ..]}.
   */
  static void t5x16(
      float[] b, int half, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    FloatVector a20, a21;
    FloatVector a30, a31;
    FloatVector a40, a41;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a20 = FloatVector.zero(F);
      a21 = FloatVector.zero(F);
      a30 = FloatVector.zero(F);
      a31 = FloatVector.zero(F);
      a40 = FloatVector.zero(F);
      a41 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 8);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 8);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 8);
      a40 = FloatVector.fromArray(F, y, y0 + 4 * yStride);
      a41 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 8);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    int x4 = x0 + 4 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32 + half;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v.fma(w0, a00);
      a01 = v.fma(w1, a01);
      v = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v.fma(w0, a10);
      a11 = v.fma(w1, a11);
      v = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v.fma(w0, a20);
      a21 = v.fma(w1, a21);
      v = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v.fma(w0, a30);
      a31 = v.fma(w1, a31);
      v = FloatVector.broadcast(F, x[x4 + k]);
      a40 = v.fma(w0, a40);
      a41 = v.fma(w1, a41);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 8);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 8);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 8);
    a40.intoArray(y, y0 + 4 * yStride);
    a41.intoArray(y, y0 + 4 * yStride + 8);
  }

  /**
   * 4 tokens x 16 rows, the half of the run's 32 rows from lane {@code half} (0 or 16): token
   * {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into {@code y[y0 + t * yStride ..]}.
   */
  static void t4x16(
      float[] b, int half, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    FloatVector a20, a21;
    FloatVector a30, a31;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a20 = FloatVector.zero(F);
      a21 = FloatVector.zero(F);
      a30 = FloatVector.zero(F);
      a31 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 8);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 8);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 8);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32 + half;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v.fma(w0, a00);
      a01 = v.fma(w1, a01);
      v = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v.fma(w0, a10);
      a11 = v.fma(w1, a11);
      v = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v.fma(w0, a20);
      a21 = v.fma(w1, a21);
      v = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v.fma(w0, a30);
      a31 = v.fma(w1, a31);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 8);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 8);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 8);
  }

  /**
   * 3 tokens x 32 rows: token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t3(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01, a02, a03;
    FloatVector a10, a11, a12, a13;
    FloatVector a20, a21, a22, a23;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a02 = FloatVector.zero(F);
      a03 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a12 = FloatVector.zero(F);
      a13 = FloatVector.zero(F);
      a20 = FloatVector.zero(F);
      a21 = FloatVector.zero(F);
      a22 = FloatVector.zero(F);
      a23 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a02 = FloatVector.fromArray(F, y, y0 + 16);
      a03 = FloatVector.fromArray(F, y, y0 + 24);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 8);
      a12 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a13 = FloatVector.fromArray(F, y, y0 + yStride + 24);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 8);
      a22 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
      a23 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 24);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector w2 = FloatVector.fromArray(F, b, at + 16);
      FloatVector w3 = FloatVector.fromArray(F, b, at + 24);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a02 = v0.fma(w2, a02);
      a03 = v0.fma(w3, a03);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a12 = v1.fma(w2, a12);
      a13 = v1.fma(w3, a13);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
      a22 = v2.fma(w2, a22);
      a23 = v2.fma(w3, a23);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a02.intoArray(y, y0 + 16);
    a03.intoArray(y, y0 + 24);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 8);
    a12.intoArray(y, y0 + yStride + 16);
    a13.intoArray(y, y0 + yStride + 24);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 8);
    a22.intoArray(y, y0 + 2 * yStride + 16);
    a23.intoArray(y, y0 + 2 * yStride + 24);
  }

  /**
   * 2 tokens x 32 rows: token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t2(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01, a02, a03;
    FloatVector a10, a11, a12, a13;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a02 = FloatVector.zero(F);
      a03 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a12 = FloatVector.zero(F);
      a13 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a02 = FloatVector.fromArray(F, y, y0 + 16);
      a03 = FloatVector.fromArray(F, y, y0 + 24);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 8);
      a12 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a13 = FloatVector.fromArray(F, y, y0 + yStride + 24);
    }
    int x1 = x0 + xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector w2 = FloatVector.fromArray(F, b, at + 16);
      FloatVector w3 = FloatVector.fromArray(F, b, at + 24);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a02 = v0.fma(w2, a02);
      a03 = v0.fma(w3, a03);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a12 = v1.fma(w2, a12);
      a13 = v1.fma(w3, a13);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a02.intoArray(y, y0 + 16);
    a03.intoArray(y, y0 + 24);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 8);
    a12.intoArray(y, y0 + yStride + 16);
    a13.intoArray(y, y0 + yStride + 24);
  }

  /** 1 token x 32 rows. */
  static void t1(float[] b, int kc, float[] x, int x0, float[] y, int y0, boolean first) {
    FloatVector a00, a01, a02, a03;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a02 = FloatVector.zero(F);
      a03 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 8);
      a02 = FloatVector.fromArray(F, y, y0 + 16);
      a03 = FloatVector.fromArray(F, y, y0 + 24);
    }
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 8);
      FloatVector w2 = FloatVector.fromArray(F, b, at + 16);
      FloatVector w3 = FloatVector.fromArray(F, b, at + 24);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a02 = v0.fma(w2, a02);
      a03 = v0.fma(w3, a03);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 8);
    a02.intoArray(y, y0 + 16);
    a03.intoArray(y, y0 + 24);
  }
}
