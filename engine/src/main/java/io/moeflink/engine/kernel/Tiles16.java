package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles for 16 float lanes (AVX-512): a token's 32 outputs are two vectors, eight tokens
 * sixteen accumulators of the 32 registers; the pair tiles {@link #t5x64} and {@link #t4x64} read
 * two staged blocks (64 rows, four vectors) for five or four tokens, twenty or sixteen
 * accumulators.
 *
 * <p>Each tile multiplies a staged run of widened weights {@code b} ({@code (kc, 32)}) by up to
 * 8 tokens' activations and adds into their 32 outputs: per column, one weight vector load
 * feeds every token's fused multiply-add, each accumulator's chain runs over the columns in order.
 * The tiles are unrolled in full and kept apart: a method that inlines several grows past C2's
 * inlining budget, and a Vector API call that is not inlined boxes its vectors and runs ten times
 * slower.
 */
final class Tiles16 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

  private Tiles16() {}

  /**
   * 5 tokens x 64 rows, two staged blocks side by side ({@code b0} rows 0-31, {@code b1} rows
   * 32-63): twenty accumulators, four weight vectors and a broadcast. Per column a broadcast feeds
   * four fused multiply-adds here against two in {@link #t8}; the broadcasts share a port with the
   * multiply-adds on AVX-512, so this tile runs 1.1-1.35x faster in L1 (JDK 17 / 25, one thread).
   * Token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into {@code y[y0 + t *
   * yStride ..]}, 64 consecutive outputs.
   */
  static void t5x64(
      float[] b0, float[] b1, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01, a02, a03;
    FloatVector a10, a11, a12, a13;
    FloatVector a20, a21, a22, a23;
    FloatVector a30, a31, a32, a33;
    FloatVector a40, a41, a42, a43;
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
      a30 = FloatVector.zero(F);
      a31 = FloatVector.zero(F);
      a32 = FloatVector.zero(F);
      a33 = FloatVector.zero(F);
      a40 = FloatVector.zero(F);
      a41 = FloatVector.zero(F);
      a42 = FloatVector.zero(F);
      a43 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a02 = FloatVector.fromArray(F, y, y0 + 32);
      a03 = FloatVector.fromArray(F, y, y0 + 48);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a12 = FloatVector.fromArray(F, y, y0 + yStride + 32);
      a13 = FloatVector.fromArray(F, y, y0 + yStride + 48);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
      a22 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 32);
      a23 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 48);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 16);
      a32 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 32);
      a33 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 48);
      a40 = FloatVector.fromArray(F, y, y0 + 4 * yStride);
      a41 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 16);
      a42 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 32);
      a43 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 48);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    int x4 = x0 + 4 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b0, at);
      FloatVector w1 = FloatVector.fromArray(F, b0, at + 16);
      FloatVector w2 = FloatVector.fromArray(F, b1, at);
      FloatVector w3 = FloatVector.fromArray(F, b1, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a02 = v0.fma(w2, a02);
      a03 = v0.fma(w3, a03);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a12 = v1.fma(w2, a12);
      a13 = v1.fma(w3, a13);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
      a22 = v2.fma(w2, a22);
      a23 = v2.fma(w3, a23);
      FloatVector v3 = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v3.fma(w0, a30);
      a31 = v3.fma(w1, a31);
      a32 = v3.fma(w2, a32);
      a33 = v3.fma(w3, a33);
      FloatVector v4 = FloatVector.broadcast(F, x[x4 + k]);
      a40 = v4.fma(w0, a40);
      a41 = v4.fma(w1, a41);
      a42 = v4.fma(w2, a42);
      a43 = v4.fma(w3, a43);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a02.intoArray(y, y0 + 32);
    a03.intoArray(y, y0 + 48);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
    a12.intoArray(y, y0 + yStride + 32);
    a13.intoArray(y, y0 + yStride + 48);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 16);
    a22.intoArray(y, y0 + 2 * yStride + 32);
    a23.intoArray(y, y0 + 2 * yStride + 48);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 16);
    a32.intoArray(y, y0 + 3 * yStride + 32);
    a33.intoArray(y, y0 + 3 * yStride + 48);
    a40.intoArray(y, y0 + 4 * yStride);
    a41.intoArray(y, y0 + 4 * yStride + 16);
    a42.intoArray(y, y0 + 4 * yStride + 32);
    a43.intoArray(y, y0 + 4 * yStride + 48);
  }

  /**
   * 4 tokens x 64 rows, as {@link #t5x64} less its last token: sixteen accumulators. It takes the
   * tokens a pair's tiles of five leave (a count of tokens not a multiple of five), where two
   * one-block tiles of up to four tokens ran six or eight chains, too few for the FMA latency.
   */
  static void t4x64(
      float[] b0, float[] b1, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01, a02, a03;
    FloatVector a10, a11, a12, a13;
    FloatVector a20, a21, a22, a23;
    FloatVector a30, a31, a32, a33;
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
      a30 = FloatVector.zero(F);
      a31 = FloatVector.zero(F);
      a32 = FloatVector.zero(F);
      a33 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a02 = FloatVector.fromArray(F, y, y0 + 32);
      a03 = FloatVector.fromArray(F, y, y0 + 48);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a12 = FloatVector.fromArray(F, y, y0 + yStride + 32);
      a13 = FloatVector.fromArray(F, y, y0 + yStride + 48);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
      a22 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 32);
      a23 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 48);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 16);
      a32 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 32);
      a33 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 48);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b0, at);
      FloatVector w1 = FloatVector.fromArray(F, b0, at + 16);
      FloatVector w2 = FloatVector.fromArray(F, b1, at);
      FloatVector w3 = FloatVector.fromArray(F, b1, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a02 = v0.fma(w2, a02);
      a03 = v0.fma(w3, a03);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a12 = v1.fma(w2, a12);
      a13 = v1.fma(w3, a13);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
      a22 = v2.fma(w2, a22);
      a23 = v2.fma(w3, a23);
      FloatVector v3 = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v3.fma(w0, a30);
      a31 = v3.fma(w1, a31);
      a32 = v3.fma(w2, a32);
      a33 = v3.fma(w3, a33);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a02.intoArray(y, y0 + 32);
    a03.intoArray(y, y0 + 48);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
    a12.intoArray(y, y0 + yStride + 32);
    a13.intoArray(y, y0 + yStride + 48);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 16);
    a22.intoArray(y, y0 + 2 * yStride + 32);
    a23.intoArray(y, y0 + 2 * yStride + 48);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 16);
    a32.intoArray(y, y0 + 3 * yStride + 32);
    a33.intoArray(y, y0 + 3 * yStride + 48);
  }

  /**
   * 8 tokens x 32 rows, the widest tile the 32 registers hold (16 accumulators, two weight
   * vectors, a broadcast): token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t8(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    FloatVector a20, a21;
    FloatVector a30, a31;
    FloatVector a40, a41;
    FloatVector a50, a51;
    FloatVector a60, a61;
    FloatVector a70, a71;
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
      a60 = FloatVector.zero(F);
      a61 = FloatVector.zero(F);
      a70 = FloatVector.zero(F);
      a71 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 16);
      a40 = FloatVector.fromArray(F, y, y0 + 4 * yStride);
      a41 = FloatVector.fromArray(F, y, y0 + 4 * yStride + 16);
      a50 = FloatVector.fromArray(F, y, y0 + 5 * yStride);
      a51 = FloatVector.fromArray(F, y, y0 + 5 * yStride + 16);
      a60 = FloatVector.fromArray(F, y, y0 + 6 * yStride);
      a61 = FloatVector.fromArray(F, y, y0 + 6 * yStride + 16);
      a70 = FloatVector.fromArray(F, y, y0 + 7 * yStride);
      a71 = FloatVector.fromArray(F, y, y0 + 7 * yStride + 16);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    int x4 = x0 + 4 * xStride;
    int x5 = x0 + 5 * xStride;
    int x6 = x0 + 6 * xStride;
    int x7 = x0 + 7 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
      FloatVector v3 = FloatVector.broadcast(F, x[x3 + k]);
      a30 = v3.fma(w0, a30);
      a31 = v3.fma(w1, a31);
      FloatVector v4 = FloatVector.broadcast(F, x[x4 + k]);
      a40 = v4.fma(w0, a40);
      a41 = v4.fma(w1, a41);
      FloatVector v5 = FloatVector.broadcast(F, x[x5 + k]);
      a50 = v5.fma(w0, a50);
      a51 = v5.fma(w1, a51);
      FloatVector v6 = FloatVector.broadcast(F, x[x6 + k]);
      a60 = v6.fma(w0, a60);
      a61 = v6.fma(w1, a61);
      FloatVector v7 = FloatVector.broadcast(F, x[x7 + k]);
      a70 = v7.fma(w0, a70);
      a71 = v7.fma(w1, a71);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 16);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 16);
    a40.intoArray(y, y0 + 4 * yStride);
    a41.intoArray(y, y0 + 4 * yStride + 16);
    a50.intoArray(y, y0 + 5 * yStride);
    a51.intoArray(y, y0 + 5 * yStride + 16);
    a60.intoArray(y, y0 + 6 * yStride);
    a61.intoArray(y, y0 + 6 * yStride + 16);
    a70.intoArray(y, y0 + 7 * yStride);
    a71.intoArray(y, y0 + 7 * yStride + 16);
  }

  /**
   * 4 tokens x 32 rows: token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t4(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
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
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
      a30 = FloatVector.fromArray(F, y, y0 + 3 * yStride);
      a31 = FloatVector.fromArray(F, y, y0 + 3 * yStride + 16);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    int x3 = x0 + 3 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      FloatVector v3 = FloatVector.broadcast(F, x[x3 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
      a30 = v3.fma(w0, a30);
      a31 = v3.fma(w1, a31);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 16);
    a30.intoArray(y, y0 + 3 * yStride);
    a31.intoArray(y, y0 + 3 * yStride + 16);
  }

  /**
   * 3 tokens x 32 rows: token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t3(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    FloatVector a20, a21;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
      a20 = FloatVector.zero(F);
      a21 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
      a20 = FloatVector.fromArray(F, y, y0 + 2 * yStride);
      a21 = FloatVector.fromArray(F, y, y0 + 2 * yStride + 16);
    }
    int x1 = x0 + xStride;
    int x2 = x0 + 2 * xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      FloatVector v2 = FloatVector.broadcast(F, x[x2 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
      a20 = v2.fma(w0, a20);
      a21 = v2.fma(w1, a21);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
    a20.intoArray(y, y0 + 2 * yStride);
    a21.intoArray(y, y0 + 2 * yStride + 16);
  }

  /**
   * 2 tokens x 32 rows: token {@code t} reads {@code x[x0 + t * xStride ..]} and accumulates into
   * {@code y[y0 + t * yStride ..]}.
   */
  static void t2(float[] b, int kc, float[] x, int x0, int xStride, float[] y, int y0, int yStride, boolean first) {
    FloatVector a00, a01;
    FloatVector a10, a11;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
      a10 = FloatVector.zero(F);
      a11 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
      a10 = FloatVector.fromArray(F, y, y0 + yStride);
      a11 = FloatVector.fromArray(F, y, y0 + yStride + 16);
    }
    int x1 = x0 + xStride;
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      FloatVector v1 = FloatVector.broadcast(F, x[x1 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
      a10 = v1.fma(w0, a10);
      a11 = v1.fma(w1, a11);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
    a10.intoArray(y, y0 + yStride);
    a11.intoArray(y, y0 + yStride + 16);
  }

  /** 1 token x 32 rows. */
  static void t1(float[] b, int kc, float[] x, int x0, float[] y, int y0, boolean first) {
    FloatVector a00, a01;
    if (first) {
      a00 = FloatVector.zero(F);
      a01 = FloatVector.zero(F);
    } else {
      a00 = FloatVector.fromArray(F, y, y0);
      a01 = FloatVector.fromArray(F, y, y0 + 16);
    }
    for (int k = 0; k < kc; k++) {
      int at = k * 32;
      FloatVector w0 = FloatVector.fromArray(F, b, at);
      FloatVector w1 = FloatVector.fromArray(F, b, at + 16);
      FloatVector v0 = FloatVector.broadcast(F, x[x0 + k]);
      a00 = v0.fma(w0, a00);
      a01 = v0.fma(w1, a01);
    }
    a00.intoArray(y, y0);
    a01.intoArray(y, y0 + 16);
  }
}
