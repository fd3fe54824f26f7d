package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Kernels on the Vector API ({@code jdk.incubator.vector}): {@link Bf16Tiles} and {@link Fp8Tiles}
 * decode weights in registers from {@link StagedRows staged} rows, F32 reads the buffer directly;
 * each call's output rows are split over the {@link WorkerPool}. Only load this class when the
 * module is present ({@link Backends}).
 *
 * <p>Every token's dot product runs the same instruction sequence whether it is computed alone or
 * in a group of four, so results do not depend on the batch.
 */
public final class VectorBackend extends CpuBackend {

  public VectorBackend(int threads) {
    super(threads);
  }

  @Override
  public String name() {
    return "vector(" + F.vectorBitSize() + " bit)";
  }

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int chunks = RowSplit.chunks(rows, (long) rows * cols * tokens, threads());
    switch (w.dtype()) {
      case BF16 -> {
        float[][] split = Bf16Tiles.splitEvenOdd(x, tokens, cols);
        pool().parallelFor(chunks, c -> Bf16Tiles.rows(w, x, split[0], split[1], tokens, y, c, chunks));
      }
      case F8_E4M3 -> pool().parallelFor(chunks, c -> Fp8Tiles.rows(w, x, tokens, y, c, chunks));
      case F32 -> pool().parallelFor(chunks, c -> f32Rows(w, x, tokens, y, c, chunks));
    }
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
        y[t * rows + r] = acc.reduceLanes(VectorOperators.ADD) + w.dotColumnsFrom(r, vectorCols, x, t * cols);
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
}
