package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.B;
import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.GROUP;
import static io.moeflink.engine.kernel.Lanes.I;
import static io.moeflink.engine.kernel.Lanes.L;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * FP8 E4M3 matmul tiles on the Vector API, reading {@link StagedRows staged} weight rows. {@code
 * (code & 0x7F) << 20 | sign} placed in F32 bits is the value times {@code 2^-120}, subnormals
 * included; the {@code 2^120} is folded into the block scale. Each 128-column block's vector sum
 * is scaled lane-wise into a running total that is reduced once per row, in the same order in
 * every tile.
 */
final class Fp8Tiles {
  /** Bit 31 and bits 20-26: where a code's sign and low seven bits go in the F32 bits. */
  private static final int SIGN_AND_LOW_SEVEN = 0x87F00000;
  private Fp8Tiles() {}

  /** Rows {@code chunk} of {@code chunks} of {@code w} against {@code tokens} tokens. */
  static void rows(WeightMatrix w, float[] x, int tokens, float[] y, int chunk, int chunks) {
    int rows = w.rows();
    int cols = w.cols();
    int r0 = RowSplit.start(chunk, chunks, rows);
    int r1 = RowSplit.start(chunk + 1, chunks, rows);
    int groupedTokens = tokens - tokens % GROUP;
    int blockRows = StagedRows.blockRows(tokens, cols);
    byte[] block = StagedRows.buffer(blockRows * cols);
    for (int rb = r0; rb < r1; rb += blockRows) {
      int n = Math.min(blockRows, r1 - rb);
      StagedRows.copy(w, rb, n, block);
      // token groups outside: a group's activations stay in L1 while the block's rows pass
      for (int t = 0; t < groupedTokens; t += GROUP) {
        for (int i = 0; i < n; i++) {
          fp8Dot4(w, block, i, rb + i, x, t, y);
        }
      }
      // the remaining tokens one at a time, four rows per pass (independent accumulator chains)
      for (int t = groupedTokens; t < tokens; t++) {
        int i = 0;
        for (; i + GROUP <= n; i += GROUP) {
          fp8Rows4Dot1(w, block, i, rb + i, x, t, y);
        }
        for (; i < n; i++) {
          y[t * rows + rb + i] = fp8Dot1(w, block, i, rb + i, x, t);
        }
      }
    }
  }

  /**
   * Sixteen (L) E4M3 codes at {@code at} as F32 values times {@code 2^-120}: the sign-extended code
   * shifted left by 20 has the code's seven low bits at 20-26 and copies of its sign at 27-31, so
   * one mask leaves {@code sign << 31 | (code & 0x7F) << 20}.
   */
  private static FloatVector fp8Weights(byte[] block, int at) {
    ByteVector codes = ByteVector.fromByteArray(B, block, at, ByteOrder.LITTLE_ENDIAN);
    IntVector wide = (IntVector) codes.convertShape(VectorOperators.B2I, I, 0);
    return wide.lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_LOW_SEVEN).reinterpretAsFloats();
  }

  /** One E4M3 code as an F32 value times {@code 2^-120}, for the columns past the last vector. */
  private static float fp8Weight(byte[] block, int at) {
    int code = block[at];
    return Float.intBitsToFloat(((code & 0x7F) << 20) | (code & 0x80000000));
  }

  /**
   * Row {@code r} (staged row {@code i} of {@code block}) against token {@code t}. Per 128-column
   * block: a vector sum of the whole vectors, times the block scale added lane-wise to a running
   * vector total, and the block's last columns summed one by one, times the scale, into a scalar.
   * The total is reduced once at the end of the row, not once per block (a reduction costs as much
   * as the block's eight FMAs). The order that {@link #fp8Dot4} and {@link #fp8Rows4Dot1} repeat
   * instruction for instruction.
   */
  private static float fp8Dot1(WeightMatrix w, byte[] block, int i, int r, float[] x, int t) {
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int rowByte = i * cols;
    int xo = t * cols;
    FloatVector total = FloatVector.zero(F);
    float tails = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector acc = FloatVector.zero(F);
      int vectorEnd = c0 + (c1 - c0) / L * L;
      int c = c0;
      for (; c < vectorEnd; c += L) {
        acc = fp8Weights(block, rowByte + c).fma(FloatVector.fromArray(F, x, xo + c), acc);
      }
      float tail = 0f;
      for (; c < c1; c++) {
        tail += fp8Weight(block, rowByte + c) * x[xo + c];
      }
      float scale = w.rebiasedScale(stored, b);
      total = acc.fma(FloatVector.broadcast(F, scale), total);
      tails += tail * scale;
    }
    return total.reduceLanes(VectorOperators.ADD) + tails;
  }

  /** Row {@code r} against tokens {@code t .. t+3}: each weight vector decoded once for four. */
  private static void fp8Dot4(WeightMatrix w, byte[] block, int i, int r, float[] x, int t, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int rowByte = i * cols;
    int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
    float u0 = 0f, u1 = 0f, u2 = 0f, u3 = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      int vectorEnd = c0 + (c1 - c0) / L * L;
      int c = c0;
      for (; c < vectorEnd; c += L) {
        FloatVector wv = fp8Weights(block, rowByte + c);
        a0 = wv.fma(FloatVector.fromArray(F, x, x0 + c), a0);
        a1 = wv.fma(FloatVector.fromArray(F, x, x1 + c), a1);
        a2 = wv.fma(FloatVector.fromArray(F, x, x2 + c), a2);
        a3 = wv.fma(FloatVector.fromArray(F, x, x3 + c), a3);
      }
      float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
      for (; c < c1; c++) {
        float wc = fp8Weight(block, rowByte + c);
        b0 += wc * x[x0 + c];
        b1 += wc * x[x1 + c];
        b2 += wc * x[x2 + c];
        b3 += wc * x[x3 + c];
      }
      float scale = w.rebiasedScale(stored, b);
      s0 = a0.fma(FloatVector.broadcast(F, scale), s0);
      s1 = a1.fma(FloatVector.broadcast(F, scale), s1);
      s2 = a2.fma(FloatVector.broadcast(F, scale), s2);
      s3 = a3.fma(FloatVector.broadcast(F, scale), s3);
      u0 += b0 * scale;
      u1 += b1 * scale;
      u2 += b2 * scale;
      u3 += b3 * scale;
    }
    y[t * rows + r] = s0.reduceLanes(VectorOperators.ADD) + u0;
    y[(t + 1) * rows + r] = s1.reduceLanes(VectorOperators.ADD) + u1;
    y[(t + 2) * rows + r] = s2.reduceLanes(VectorOperators.ADD) + u2;
    y[(t + 3) * rows + r] = s3.reduceLanes(VectorOperators.ADD) + u3;
  }

  /** Rows {@code r .. r+3} against token {@code t}: four independent chains, one activation load. */
  private static void fp8Rows4Dot1(WeightMatrix w, byte[] block, int i, int r, float[] x, int t, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int q0 = i * cols, q1 = q0 + cols, q2 = q1 + cols, q3 = q2 + cols;
    int xo = t * cols;
    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
    float u0 = 0f, u1 = 0f, u2 = 0f, u3 = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      int vectorEnd = c0 + (c1 - c0) / L * L;
      int c = c0;
      for (; c < vectorEnd; c += L) {
        FloatVector xv = FloatVector.fromArray(F, x, xo + c);
        a0 = fp8Weights(block, q0 + c).fma(xv, a0);
        a1 = fp8Weights(block, q1 + c).fma(xv, a1);
        a2 = fp8Weights(block, q2 + c).fma(xv, a2);
        a3 = fp8Weights(block, q3 + c).fma(xv, a3);
      }
      float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
      for (; c < c1; c++) {
        float xc = x[xo + c];
        b0 += fp8Weight(block, q0 + c) * xc;
        b1 += fp8Weight(block, q1 + c) * xc;
        b2 += fp8Weight(block, q2 + c) * xc;
        b3 += fp8Weight(block, q3 + c) * xc;
      }
      float k0 = w.rebiasedScale(stored, b), k1 = w.rebiasedScale(stored + 1, b);
      float k2 = w.rebiasedScale(stored + 2, b), k3 = w.rebiasedScale(stored + 3, b);
      s0 = a0.fma(FloatVector.broadcast(F, k0), s0);
      s1 = a1.fma(FloatVector.broadcast(F, k1), s1);
      s2 = a2.fma(FloatVector.broadcast(F, k2), s2);
      s3 = a3.fma(FloatVector.broadcast(F, k3), s3);
      u0 += b0 * k0;
      u1 += b1 * k1;
      u2 += b2 * k2;
      u3 += b3 * k3;
    }
    y[t * rows + r] = s0.reduceLanes(VectorOperators.ADD) + u0;
    y[t * rows + r + 1] = s1.reduceLanes(VectorOperators.ADD) + u1;
    y[t * rows + r + 2] = s2.reduceLanes(VectorOperators.ADD) + u2;
    y[t * rows + r + 3] = s3.reduceLanes(VectorOperators.ADD) + u3;
  }
}
