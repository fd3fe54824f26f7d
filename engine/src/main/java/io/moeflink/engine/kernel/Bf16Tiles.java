package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.GROUP;
import static io.moeflink.engine.kernel.Lanes.I;
import static io.moeflink.engine.kernel.Lanes.L;

import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * BF16 matmul tiles on the Vector API, reading {@link StagedRows staged} weight rows. One int lane
 * holds two weights, element {@code 2k} in the low half and {@code 2k+1} in the high half, so
 * {@code lane << 16} and {@code lane & 0xFFFF0000} are the two weights as F32 bits; the activations
 * are split into even and odd elements once per call to match.
 *
 * <p>Every (row, token) sum runs {@link #bf16Dot1}'s instructions whichever tile computes it, so
 * results do not depend on the batch. The tiles are hand-unrolled and kept apart: a method that
 * inlines several of them grows past C2's inlining budget, and a Vector API call that is not
 * inlined boxes its vectors and runs ten times slower.
 */
final class Bf16Tiles {
  private static final int HIGH_HALF = 0xFFFF0000;

  private Bf16Tiles() {}

  /** x (tokens, cols) -> even (tokens, cols/2) and odd (tokens, cols/2) elements. */
  static float[][] splitEvenOdd(float[] x, int tokens, int cols) {
    int half = cols / 2;
    float[] even = new float[tokens * half];
    float[] odd = new float[tokens * half];
    for (int t = 0; t < tokens; t++) {
      for (int k = 0; k < half; k++) {
        even[t * half + k] = x[t * cols + 2 * k];
        odd[t * half + k] = x[t * cols + 2 * k + 1];
      }
    }
    return new float[][] {even, odd};
  }

  /**
   * Rows {@code chunk} of {@code chunks} of {@code w} against {@code tokens} tokens, whose
   * activations {@link #splitEvenOdd} split.
   */
  static void rows(
      WeightMatrix w, float[] x, float[] even, float[] odd, int tokens, float[] y, int chunk, int chunks) {
    int rows = w.rows();
    int rowBytes = w.cols() * 2;
    int vectorCols = (w.cols() / (2 * L)) * 2 * L; // columns covered by whole int vectors
    int r0 = RowSplit.start(chunk, chunks, rows);
    int r1 = RowSplit.start(chunk + 1, chunks, rows);
    int blockRows = StagedRows.blockRows(tokens, rowBytes);
    byte[] block = StagedRows.buffer(blockRows * rowBytes);
    for (int r = r0; r < r1; r += blockRows) {
      int n = Math.min(blockRows, r1 - r);
      StagedRows.copy(w, r, n, block);
      bf16Block(block, rowBytes, n, vectorCols, even, odd, tokens, y, r, rows);
    }
    if (vectorCols == w.cols()) {
      return; // no leftover columns (every DeepSeek-V3 matrix): skip a pass over rows x tokens
    }
    for (int r = r0; r < r1; r++) {
      for (int t = 0; t < tokens; t++) {
        y[t * rows + r] += w.dotColumnsFrom(r, vectorCols, x, t * w.cols());
      }
    }
  }

  /**
   * All tokens against {@code n} staged rows whose outputs start at row {@code yRow}: groups of four
   * tokens two rows at a time, then the last one to three tokens four rows at a time (more
   * independent accumulator chains, and each activation load feeds four rows).
   */
  private static void bf16Block(
      byte[] block, int rowBytes, int n, int vectorCols, float[] even, float[] odd, int tokens, float[] y, int yRow,
      int rows) {
    int half = rowBytes / 4;
    int groupedTokens = tokens - tokens % GROUP;
    int pairedRows = n - n % 2;
    // two rows per pass over each group of four tokens: every activation load feeds two FMAs;
    // token groups outside, so that a group's activations stay in L1 while the block's rows pass
    for (int t = 0; t < groupedTokens; t += GROUP) {
      for (int i = 0; i < pairedRows; i += 2) {
        bf16Rows2Dot4(block, i * rowBytes, rowBytes, vectorCols, even, odd, t * half, half, y, t * rows + yRow + i, rows);
      }
      if (pairedRows < n) {
        bf16Dot4(block, pairedRows * rowBytes, vectorCols, even, odd, t * half, half, y, t * rows + yRow + pairedRows, rows);
      }
    }
    int i;
    // the remaining one to three tokens (routed experts mostly see one to three), four rows per
    // pass; a pair of tokens also shares each decoded weight vector
    int t = groupedTokens;
    for (; t + 2 <= tokens; t += 2) {
      for (i = 0; i + GROUP <= n; i += GROUP) {
        bf16Rows4Dot2(block, i * rowBytes, rowBytes, vectorCols, even, odd, t * half, half, y, t * rows + yRow + i, rows);
      }
      for (; i < n; i++) {
        y[t * rows + yRow + i] = bf16Dot1(block, i * rowBytes, vectorCols, even, odd, t * half);
        y[(t + 1) * rows + yRow + i] = bf16Dot1(block, i * rowBytes, vectorCols, even, odd, (t + 1) * half);
      }
    }
    for (; t < tokens; t++) {
      for (i = 0; i + GROUP <= n; i += GROUP) {
        bf16Rows4Dot1(block, i * rowBytes, rowBytes, vectorCols, even, odd, t * half, y, t * rows + yRow + i);
      }
      for (; i < n; i++) {
        y[t * rows + yRow + i] = bf16Dot1(block, i * rowBytes, vectorCols, even, odd, t * half);
      }
    }
  }

  /**
   * Four consecutive rows against two tokens ({@code half} apart in {@code even}/{@code odd});
   * token {@code t + 1}'s sums go to {@code y[yAt + yStride + ...]}. Each (row, token) sum runs
   * {@link #bf16Dot1}'s instructions.
   */
  private static void bf16Rows4Dot2(
      byte[] block, int rowByte, int rowBytes, int vectorCols, float[] even, float[] odd, int x0, int half,
      float[] y, int yAt, int yStride) {
    FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F), f0 = FloatVector.zero(F), p0 = FloatVector.zero(F);
    FloatVector e1 = FloatVector.zero(F), o1 = FloatVector.zero(F), f1 = FloatVector.zero(F), p1 = FloatVector.zero(F);
    FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F), f2 = FloatVector.zero(F), p2 = FloatVector.zero(F);
    FloatVector e3 = FloatVector.zero(F), o3 = FloatVector.zero(F), f3 = FloatVector.zero(F), p3 = FloatVector.zero(F);
    int b1 = rowByte + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
    int x1 = x0 + half;
    for (int k = 0; k < vectorCols / 2; k += L) {
      FloatVector xe = FloatVector.fromArray(F, even, x0 + k);
      FloatVector xo = FloatVector.fromArray(F, odd, x0 + k);
      FloatVector ye = FloatVector.fromArray(F, even, x1 + k);
      FloatVector yo = FloatVector.fromArray(F, odd, x1 + k);
      IntVector q = bf16Pairs(block, rowByte + 4 * k);
      FloatVector we = evenWeights(q);
      FloatVector wo = oddWeights(q);
      e0 = we.fma(xe, e0);
      o0 = wo.fma(xo, o0);
      f0 = we.fma(ye, f0);
      p0 = wo.fma(yo, p0);
      q = bf16Pairs(block, b1 + 4 * k);
      we = evenWeights(q);
      wo = oddWeights(q);
      e1 = we.fma(xe, e1);
      o1 = wo.fma(xo, o1);
      f1 = we.fma(ye, f1);
      p1 = wo.fma(yo, p1);
      q = bf16Pairs(block, b2 + 4 * k);
      we = evenWeights(q);
      wo = oddWeights(q);
      e2 = we.fma(xe, e2);
      o2 = wo.fma(xo, o2);
      f2 = we.fma(ye, f2);
      p2 = wo.fma(yo, p2);
      q = bf16Pairs(block, b3 + 4 * k);
      we = evenWeights(q);
      wo = oddWeights(q);
      e3 = we.fma(xe, e3);
      o3 = wo.fma(xo, o3);
      f3 = we.fma(ye, f3);
      p3 = wo.fma(yo, p3);
    }
    y[yAt] = e0.add(o0).reduceLanes(VectorOperators.ADD);
    y[yAt + 1] = e1.add(o1).reduceLanes(VectorOperators.ADD);
    y[yAt + 2] = e2.add(o2).reduceLanes(VectorOperators.ADD);
    y[yAt + 3] = e3.add(o3).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride] = f0.add(p0).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride + 1] = f1.add(p1).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride + 2] = f2.add(p2).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride + 3] = f3.add(p3).reduceLanes(VectorOperators.ADD);
  }

  /**
   * Four consecutive weight rows ({@code rowBytes} apart) against one token; each row's sum runs
   * exactly {@link #bf16Dot1}'s instructions, so its result is the same bits.
   */
  private static void bf16Rows4Dot1(
      byte[] block, int rowByte, int rowBytes, int vectorCols, float[] even, float[] odd, int x0, float[] y,
      int yAt) {
    FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F);
    FloatVector e1 = FloatVector.zero(F), o1 = FloatVector.zero(F);
    FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F);
    FloatVector e3 = FloatVector.zero(F), o3 = FloatVector.zero(F);
    int b1 = rowByte + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
    for (int k = 0; k < vectorCols / 2; k += L) {
      FloatVector xe = FloatVector.fromArray(F, even, x0 + k);
      FloatVector xo = FloatVector.fromArray(F, odd, x0 + k);
      IntVector p0 = bf16Pairs(block, rowByte + 4 * k);
      IntVector p1 = bf16Pairs(block, b1 + 4 * k);
      IntVector p2 = bf16Pairs(block, b2 + 4 * k);
      IntVector p3 = bf16Pairs(block, b3 + 4 * k);
      e0 = evenWeights(p0).fma(xe, e0);
      o0 = oddWeights(p0).fma(xo, o0);
      e1 = evenWeights(p1).fma(xe, e1);
      o1 = oddWeights(p1).fma(xo, o1);
      e2 = evenWeights(p2).fma(xe, e2);
      o2 = oddWeights(p2).fma(xo, o2);
      e3 = evenWeights(p3).fma(xe, e3);
      o3 = oddWeights(p3).fma(xo, o3);
    }
    y[yAt] = e0.add(o0).reduceLanes(VectorOperators.ADD);
    y[yAt + 1] = e1.add(o1).reduceLanes(VectorOperators.ADD);
    y[yAt + 2] = e2.add(o2).reduceLanes(VectorOperators.ADD);
    y[yAt + 3] = e3.add(o3).reduceLanes(VectorOperators.ADD);
  }

  /**
   * One weight row against four tokens' activations starting at {@code x0}, {@code x0 + half},
   * ...; the sums go to {@code y[yAt]}, {@code y[yAt + yStride]}, ... Kept small so that C2 inlines
   * every Vector API call (an un-inlined one boxes its vectors and runs ten times slower).
   */
  private static void bf16Dot4(
      byte[] block, int rowByte, int vectorCols, float[] even, float[] odd, int x0, int half, float[] y, int yAt,
      int yStride) {
    FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F);
    FloatVector e1 = FloatVector.zero(F), o1 = FloatVector.zero(F);
    FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F);
    FloatVector e3 = FloatVector.zero(F), o3 = FloatVector.zero(F);
    int x1 = x0 + half, x2 = x1 + half, x3 = x2 + half;
    // k counts int lanes (column pairs) so that every index is linear in it and C2 drops the range checks
    for (int k = 0; k < vectorCols / 2; k += L) {
      IntVector pair = bf16Pairs(block, rowByte + 4 * k);
      FloatVector we = evenWeights(pair);
      FloatVector wo = oddWeights(pair);
      e0 = we.fma(FloatVector.fromArray(F, even, x0 + k), e0);
      o0 = wo.fma(FloatVector.fromArray(F, odd, x0 + k), o0);
      e1 = we.fma(FloatVector.fromArray(F, even, x1 + k), e1);
      o1 = wo.fma(FloatVector.fromArray(F, odd, x1 + k), o1);
      e2 = we.fma(FloatVector.fromArray(F, even, x2 + k), e2);
      o2 = wo.fma(FloatVector.fromArray(F, odd, x2 + k), o2);
      e3 = we.fma(FloatVector.fromArray(F, even, x3 + k), e3);
      o3 = wo.fma(FloatVector.fromArray(F, odd, x3 + k), o3);
    }
    y[yAt] = e0.add(o0).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride] = e1.add(o1).reduceLanes(VectorOperators.ADD);
    y[yAt + 2 * yStride] = e2.add(o2).reduceLanes(VectorOperators.ADD);
    y[yAt + 3 * yStride] = e3.add(o3).reduceLanes(VectorOperators.ADD);
  }

  /**
   * {@link #bf16Dot4} for two consecutive rows ({@code rowBytes} apart): row {@code r + 1}'s sums go
   * to {@code y[yAt + 1 + ...]}. Each (row, token) sum runs the same instructions as in {@link
   * #bf16Dot1}.
   */
  private static void bf16Rows2Dot4(
      byte[] block, int rowByte, int rowBytes, int vectorCols, float[] even, float[] odd, int x0, int half,
      float[] y, int yAt, int yStride) {
    FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F), f0 = FloatVector.zero(F), p0 = FloatVector.zero(F);
    FloatVector e1 = FloatVector.zero(F), o1 = FloatVector.zero(F), f1 = FloatVector.zero(F), p1 = FloatVector.zero(F);
    FloatVector e2 = FloatVector.zero(F), o2 = FloatVector.zero(F), f2 = FloatVector.zero(F), p2 = FloatVector.zero(F);
    FloatVector e3 = FloatVector.zero(F), o3 = FloatVector.zero(F), f3 = FloatVector.zero(F), p3 = FloatVector.zero(F);
    int x1 = x0 + half, x2 = x1 + half, x3 = x2 + half;
    int nextRow = rowByte + rowBytes;
    for (int k = 0; k < vectorCols / 2; k += L) {
      IntVector pairA = bf16Pairs(block, rowByte + 4 * k);
      IntVector pairB = bf16Pairs(block, nextRow + 4 * k);
      FloatVector weA = evenWeights(pairA);
      FloatVector woA = oddWeights(pairA);
      FloatVector weB = evenWeights(pairB);
      FloatVector woB = oddWeights(pairB);
      FloatVector xe = FloatVector.fromArray(F, even, x0 + k);
      FloatVector xo = FloatVector.fromArray(F, odd, x0 + k);
      e0 = weA.fma(xe, e0);
      o0 = woA.fma(xo, o0);
      f0 = weB.fma(xe, f0);
      p0 = woB.fma(xo, p0);
      xe = FloatVector.fromArray(F, even, x1 + k);
      xo = FloatVector.fromArray(F, odd, x1 + k);
      e1 = weA.fma(xe, e1);
      o1 = woA.fma(xo, o1);
      f1 = weB.fma(xe, f1);
      p1 = woB.fma(xo, p1);
      xe = FloatVector.fromArray(F, even, x2 + k);
      xo = FloatVector.fromArray(F, odd, x2 + k);
      e2 = weA.fma(xe, e2);
      o2 = woA.fma(xo, o2);
      f2 = weB.fma(xe, f2);
      p2 = woB.fma(xo, p2);
      xe = FloatVector.fromArray(F, even, x3 + k);
      xo = FloatVector.fromArray(F, odd, x3 + k);
      e3 = weA.fma(xe, e3);
      o3 = woA.fma(xo, o3);
      f3 = weB.fma(xe, f3);
      p3 = woB.fma(xo, p3);
    }
    y[yAt] = e0.add(o0).reduceLanes(VectorOperators.ADD);
    y[yAt + 1] = f0.add(p0).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride] = e1.add(o1).reduceLanes(VectorOperators.ADD);
    y[yAt + yStride + 1] = f1.add(p1).reduceLanes(VectorOperators.ADD);
    y[yAt + 2 * yStride] = e2.add(o2).reduceLanes(VectorOperators.ADD);
    y[yAt + 2 * yStride + 1] = f2.add(p2).reduceLanes(VectorOperators.ADD);
    y[yAt + 3 * yStride] = e3.add(o3).reduceLanes(VectorOperators.ADD);
    y[yAt + 3 * yStride + 1] = f3.add(p3).reduceLanes(VectorOperators.ADD);
  }

  /** {@link #bf16Dot4} for one token: the same instructions per token, so the same sums. */
  private static float bf16Dot1(byte[] block, int rowByte, int vectorCols, float[] even, float[] odd, int x0) {
    FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F);
    // k counts int lanes (column pairs) so that every index is linear in it and C2 drops the range checks
    for (int k = 0; k < vectorCols / 2; k += L) {
      IntVector pair = bf16Pairs(block, rowByte + 4 * k);
      FloatVector we = evenWeights(pair);
      FloatVector wo = oddWeights(pair);
      e0 = we.fma(FloatVector.fromArray(F, even, x0 + k), e0);
      o0 = wo.fma(FloatVector.fromArray(F, odd, x0 + k), o0);
    }
    return e0.add(o0).reduceLanes(VectorOperators.ADD);
  }

  /** Sixteen (L) int lanes at byte {@code at} of a staged block, each holding BF16 weights {@code 2k} and {@code 2k+1}. */
  private static IntVector bf16Pairs(byte[] block, int at) {
    return IntVector.fromByteArray(I, block, at, ByteOrder.LITTLE_ENDIAN);
  }

  /** The even-column weights of {@link #bf16Pairs} as F32 (low half moved up). */
  private static FloatVector evenWeights(IntVector pairs) {
    return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  /** The odd-column weights of {@link #bf16Pairs} as F32 (high half kept). */
  private static FloatVector oddWeights(IntVector pairs) {
    return pairs.and(HIGH_HALF).reinterpretAsFloats();
  }
}
