package io.moeflink.engine.kernel;

import java.util.List;

/**
 * The reference kernels: plain loops over each weight decoded exactly ({@link WeightMatrix#get}),
 * in the one order every backend computes ({@link KernelBackend}): a projection's output is a
 * chain of fused multiply-adds over the columns in order, a dot product {@link Dot16}'s sixteen
 * lanes and tree, an axpy one fused multiply-add per element. Other backends are checked against
 * this one, the CPU ones bit for bit.
 */
public final class ScalarBackend extends CpuBackend {

  public ScalarBackend(int threads) {
    super(threads);
  }

  /** Nothing to prepare: the scalar loops read the stored layout. */
  @Override
  public void prepare(List<WeightMatrix> weights) {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int chunks = RowSplit.chunks(rows, (long) rows * cols * tokens, threads());
    pool().parallelFor(chunks, chunk -> {
      int r1 = RowSplit.start(chunk + 1, chunks, rows);
      for (int r = RowSplit.start(chunk, chunks, rows); r < r1; r++) {
        for (int t = 0; t < tokens; t++) {
          float acc = 0f;
          for (int c = 0; c < cols; c++) {
            acc = Math.fma(w.get(r, c), x[t * cols + c], acc);
          }
          y[t * rows + r] = acc;
        }
      }
    });
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    return Dot16.scalar(a, aOffset, b, bOffset, n);
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    for (int i = 0; i < n; i++) {
      y[yOffset + i] = Math.fma(alpha, x[xOffset + i], y[yOffset + i]);
    }
  }
}
