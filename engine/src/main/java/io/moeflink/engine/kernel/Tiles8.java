package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles for 8 float lanes (AVX2): a token's 32 outputs are four vectors, three tokens
 * twelve accumulators of the sixteen registers.
 *
 * <p>Each tile multiplies a staged run of widened weights {@code b} ({@code (kc, 32)}) by up to
 * 3 tokens' activations and adds into their 32 outputs: per column, one weight vector load
 * feeds every token's fused multiply-add, each accumulator's chain runs over the columns in order.
 * The tiles are unrolled in full and kept apart: a method that inlines several grows past C2's
 * inlining budget, and a Vector API call that is not inlined boxes its vectors and runs ten times
 * slower.
 */
final class Tiles8 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

  private Tiles8() {}

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
