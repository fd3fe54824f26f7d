package io.moeflink.engine.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the Vector API ({@code jdk.incubator.vector}), decoding BF16 and FP8 weights in
 * registers. Only load this class when the module is present ({@link Backends}).
 *
 * <p>BF16: one int lane holds two weights, element {@code 2k} in the low half and {@code 2k+1} in
 * the high half, so {@code lane << 16} and {@code lane & 0xFFFF0000} are the two weights as F32
 * bits. The activations are split into even and odd elements once per call to match.
 *
 * <p>FP8 E4M3: {@code (code & 0x7F) << 20 | sign} placed in F32 bits is the value times
 * {@code 2^-120}, subnormals included; the {@code 2^120} is folded into the block scale. Each
 * 128-column block is reduced to a scalar and scaled.
 *
 * <p>The tiles do not read the mapped weights: each thread bulk-copies 8-16 KiB of rows at a time
 * into its own staging array and the tiles read that from L1. One bulk copy keeps many cache-line
 * reads in flight and streams the file at close to the machine's read bandwidth; vector loads
 * straight from a mapped {@code ByteBuffer} carry a dozen instructions of bounds and session
 * checks each, which left too few reads in flight (measured: decode at batch 16 on small bf16 went
 * from 0.48 to 0.55 of the read bandwidth, batch 1 from 0.62 to 0.68).
 *
 * <p>Every token's dot product runs the same instruction sequence whether it is computed alone or
 * in a group of four, so results do not depend on the batch.
 */
public final class VectorBackend implements KernelBackend {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  private static final int HIGH_HALF = 0xFFFF0000;
  private static final int GROUP = 4;
  /**
   * Weight bytes staged at a time for five or more tokens, where the arithmetic dominates: with one
   * group of four tokens' activations they fit in L1 (measured on small bf16 at batch 16: 8 and 16
   * KiB alike, 32 KiB and more slower).
   */
  private static final int BLOCK_BYTES = 16 << 10;
  /**
   * Weight bytes staged at a time for one to four tokens, where reading the weights is most of the
   * cost: measured, 4-8 KiB blocks read fastest, 2 KiB and 16 KiB or more 5-20% slower.
   */
  private static final int STREAM_BLOCK_BYTES = 8 << 10;
  /** Each thread's staging buffer: weights are bulk-copied here from the mapped file, then computed on. */
  private static final ThreadLocal<byte[]> STAGING = ThreadLocal.withInitial(() -> new byte[BLOCK_BYTES]);

  private final WorkerPool pool;

  public VectorBackend(int threads) {
    this.pool = new WorkerPool(threads);
  }

  @Override
  public String name() {
    return "vector(" + F.vectorBitSize() + " bit)";
  }

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int chunks = RowSplit.chunks(rows, (long) rows * cols * tokens, pool.threads());
    switch (w.dtype()) {
      case BF16 -> {
        float[][] split = splitEvenOdd(x, tokens, cols);
        pool.parallelFor(chunks, c -> bf16Rows(w, x, split[0], split[1], tokens, y, c, chunks));
      }
      case F8_E4M3 -> pool.parallelFor(chunks, c -> fp8Rows(w, x, tokens, y, c, chunks));
      case F32 -> pool.parallelFor(chunks, c -> f32Rows(w, x, tokens, y, c, chunks));
    }
  }

  /** x (tokens, cols) -> even (tokens, cols/2) and odd (tokens, cols/2) elements. */
  private static float[][] splitEvenOdd(float[] x, int tokens, int cols) {
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

  /** Rows per staged block: as many as fit in {@link #BLOCK_BYTES}, a multiple of four, at least four. */
  private static int blockRows(int blockBytes, int rowBytes) {
    return Math.max(GROUP, blockBytes / rowBytes / GROUP * GROUP);
  }

  /** This thread's staging buffer, grown to at least {@code bytes}. */
  private static byte[] staging(int bytes) {
    byte[] b = STAGING.get();
    if (b.length < bytes) {
      b = new byte[bytes];
      STAGING.set(b);
    }
    return b;
  }

  /** Copies the stored bytes of rows {@code [r, r + n)} of {@code w} to {@code block[0 ..)}: one bulk copy. */
  private static void stage(WeightMatrix w, int r, int n, byte[] block) {
    int rowBytes = w.cols() * w.dtype().bytes();
    w.data().get(Math.toIntExact((long) (w.rowOffset() + r) * rowBytes), block, 0, n * rowBytes);
  }

  private static void bf16Rows(
      WeightMatrix w, float[] x, float[] even, float[] odd, int tokens, float[] y, int chunk, int chunks) {
    int rows = w.rows();
    int rowBytes = w.cols() * 2;
    int vectorCols = (w.cols() / (2 * L)) * 2 * L; // columns covered by whole int vectors
    int r0 = RowSplit.start(chunk, chunks, rows);
    int r1 = RowSplit.start(chunk + 1, chunks, rows);
    int blockRows = blockRows(tokens <= GROUP ? STREAM_BLOCK_BYTES : BLOCK_BYTES, rowBytes);
    byte[] block = staging(blockRows * rowBytes);
    for (int r = r0; r < r1; r += blockRows) {
      int n = Math.min(blockRows, r1 - r);
      stage(w, r, n, block);
      bf16Block(block, rowBytes, n, vectorCols, even, odd, tokens, y, r, rows);
    }
    for (int r = r0; r < r1; r++) {
      for (int t = 0; t < tokens; t++) {
        y[t * rows + r] += tail(w, r, x, t, vectorCols);
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

  /** The columns past the last whole vector, summed in order. */
  private static float tail(WeightMatrix w, int r, float[] x, int t, int from) {
    int cols = w.cols();
    float sum = 0f;
    for (int c = from; c < cols; c++) {
      sum += w.get(r, c) * x[t * cols + c];
    }
    return sum;
  }

  private static void fp8Rows(WeightMatrix w, float[] x, int tokens, float[] y, int chunk, int chunks) {
    int rows = w.rows();
    int cols = w.cols();
    int r0 = RowSplit.start(chunk, chunks, rows);
    int r1 = RowSplit.start(chunk + 1, chunks, rows);
    int groupedTokens = tokens - tokens % GROUP;
    int blockRows = blockRows(tokens <= GROUP ? STREAM_BLOCK_BYTES : BLOCK_BYTES, cols);
    byte[] block = staging(blockRows * cols);
    for (int rb = r0; rb < r1; rb += blockRows) {
      int n = Math.min(blockRows, r1 - rb);
      stage(w, rb, n, block);
      for (int i = 0; i < n; i++) {
        for (int t = 0; t < groupedTokens; t += GROUP) {
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

  /** Sixteen (L) E4M3 codes at {@code at} as F32 values times {@code 2^-120}. */
  private static FloatVector fp8Weights(byte[] block, int at) {
    ByteVector codes = ByteVector.fromByteArray(B, block, at, ByteOrder.LITTLE_ENDIAN);
    IntVector wide = (IntVector) codes.convertShape(VectorOperators.B2I, I, 0);
    return wide.and(0x7F).lanewise(VectorOperators.LSHL, 20).or(wide.and(0x80000000)).reinterpretAsFloats();
  }

  /** One E4M3 code as an F32 value times {@code 2^-120}, for the columns past the last vector. */
  private static float fp8Weight(byte[] block, int at) {
    int code = block[at];
    return Float.intBitsToFloat(((code & 0x7F) << 20) | (code & 0x80000000));
  }

  /**
   * Row {@code r} (staged row {@code i} of {@code block}) against token {@code t}: per 128-column
   * block a vector sum reduced to a scalar,
   * plus the block's last columns one by one, times the block scale. The reference order that
   * {@link #fp8Dot4} and {@link #fp8Rows4Dot1} repeat instruction for instruction.
   */
  private static float fp8Dot1(WeightMatrix w, byte[] block, int i, int r, float[] x, int t) {
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int rowByte = i * cols;
    int xo = t * cols;
    float sum = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector acc = FloatVector.zero(F);
      int c = c0;
      for (; c + L <= c1; c += L) {
        acc = fp8Weights(block, rowByte + c).fma(FloatVector.fromArray(F, x, xo + c), acc);
      }
      float blockSum = acc.reduceLanes(VectorOperators.ADD);
      for (; c < c1; c++) {
        blockSum += fp8Weight(block, rowByte + c) * x[xo + c];
      }
      sum += blockSum * w.rebiasedScale(stored, b);
    }
    return sum;
  }

  /** Row {@code r} against tokens {@code t .. t+3}: each weight vector decoded once for four. */
  private static void fp8Dot4(WeightMatrix w, byte[] block, int i, int r, float[] x, int t, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int rowByte = i * cols;
    int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      int c = c0;
      for (; c + L <= c1; c += L) {
        FloatVector wv = fp8Weights(block, rowByte + c);
        a0 = wv.fma(FloatVector.fromArray(F, x, x0 + c), a0);
        a1 = wv.fma(FloatVector.fromArray(F, x, x1 + c), a1);
        a2 = wv.fma(FloatVector.fromArray(F, x, x2 + c), a2);
        a3 = wv.fma(FloatVector.fromArray(F, x, x3 + c), a3);
      }
      float b0 = a0.reduceLanes(VectorOperators.ADD), b1 = a1.reduceLanes(VectorOperators.ADD);
      float b2 = a2.reduceLanes(VectorOperators.ADD), b3 = a3.reduceLanes(VectorOperators.ADD);
      for (; c < c1; c++) {
        float wc = fp8Weight(block, rowByte + c);
        b0 += wc * x[x0 + c];
        b1 += wc * x[x1 + c];
        b2 += wc * x[x2 + c];
        b3 += wc * x[x3 + c];
      }
      float scale = w.rebiasedScale(stored, b);
      s0 += b0 * scale;
      s1 += b1 * scale;
      s2 += b2 * scale;
      s3 += b3 * scale;
    }
    y[t * rows + r] = s0;
    y[(t + 1) * rows + r] = s1;
    y[(t + 2) * rows + r] = s2;
    y[(t + 3) * rows + r] = s3;
  }

  /** Rows {@code r .. r+3} against token {@code t}: four independent chains, one activation load. */
  private static void fp8Rows4Dot1(WeightMatrix w, byte[] block, int i, int r, float[] x, int t, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int stored = w.rowOffset() + r;
    int q0 = i * cols, q1 = q0 + cols, q2 = q1 + cols, q3 = q2 + cols;
    int xo = t * cols;
    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
    for (int b = 0, c0 = 0; c0 < cols; b++, c0 += WeightMatrix.FP8_BLOCK) {
      int c1 = Math.min(cols, c0 + WeightMatrix.FP8_BLOCK);
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      int c = c0;
      for (; c + L <= c1; c += L) {
        FloatVector xv = FloatVector.fromArray(F, x, xo + c);
        a0 = fp8Weights(block, q0 + c).fma(xv, a0);
        a1 = fp8Weights(block, q1 + c).fma(xv, a1);
        a2 = fp8Weights(block, q2 + c).fma(xv, a2);
        a3 = fp8Weights(block, q3 + c).fma(xv, a3);
      }
      float b0 = a0.reduceLanes(VectorOperators.ADD), b1 = a1.reduceLanes(VectorOperators.ADD);
      float b2 = a2.reduceLanes(VectorOperators.ADD), b3 = a3.reduceLanes(VectorOperators.ADD);
      for (; c < c1; c++) {
        float xc = x[xo + c];
        b0 += fp8Weight(block, q0 + c) * xc;
        b1 += fp8Weight(block, q1 + c) * xc;
        b2 += fp8Weight(block, q2 + c) * xc;
        b3 += fp8Weight(block, q3 + c) * xc;
      }
      s0 += b0 * w.rebiasedScale(stored, b);
      s1 += b1 * w.rebiasedScale(stored + 1, b);
      s2 += b2 * w.rebiasedScale(stored + 2, b);
      s3 += b3 * w.rebiasedScale(stored + 3, b);
    }
    y[t * rows + r] = s0;
    y[t * rows + r + 1] = s1;
    y[t * rows + r + 2] = s2;
    y[t * rows + r + 3] = s3;
  }

  private static void f32Rows(WeightMatrix w, float[] x, int tokens, float[] y, int chunk, int chunks) {
    int rows = w.rows();
    int cols = w.cols();
    int vectorCols = (cols / L) * L;
    ByteBuffer data = w.data();
    int r1 = RowSplit.start(chunk + 1, chunks, rows);
    for (int r = RowSplit.start(chunk, chunks, rows); r < r1; r++) {
      long rowByte = (long) (w.rowOffset() + r) * cols * 4;
      for (int t = 0; t < tokens; t++) {
        int xo = t * cols;
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < vectorCols; c += L) {
          FloatVector wv = FloatVector.fromByteBuffer(F, data, Math.toIntExact(rowByte + 4L * c), ByteOrder.LITTLE_ENDIAN);
          acc = wv.fma(FloatVector.fromArray(F, x, xo + c), acc);
        }
        y[t * rows + r] = acc.reduceLanes(VectorOperators.ADD) + tail(w, r, x, t, vectorCols);
      }
    }
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    int vectorEnd = (n / L) * L;
    FloatVector acc = FloatVector.zero(F);
    for (int i = 0; i < vectorEnd; i += L) {
      acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
    }
    float sum = acc.reduceLanes(VectorOperators.ADD);
    for (int i = vectorEnd; i < n; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    int vectorEnd = (n / L) * L;
    FloatVector a = FloatVector.broadcast(F, alpha);
    for (int i = 0; i < vectorEnd; i += L) {
      FloatVector.fromArray(F, x, xOffset + i).fma(a, FloatVector.fromArray(F, y, yOffset + i)).intoArray(y, yOffset + i);
    }
    for (int i = vectorEnd; i < n; i++) {
      y[yOffset + i] = Math.fma(alpha, x[xOffset + i], y[yOffset + i]);
    }
  }

  @Override
  public void parallelFor(int count, IntConsumer body) {
    pool.parallelFor(count, body);
  }

  @Override
  public int threads() {
    return pool.threads();
  }

  @Override
  public void close() {
    pool.close();
  }
}
