package io.moeflink.engine.kernel;

/**
 * The reference kernels: plain loops, each weight decoded exactly ({@link WeightMatrix#get}) and
 * each dot product summed left to right. Other backends are checked against this one.
 */
public final class ScalarBackend extends CpuBackend {

  public ScalarBackend(int threads) {
    super(threads);
  }

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    int chunks = RowSplit.chunks(rows, (long) rows * cols * tokens, threads());
    pool().parallelFor(
        chunks,
        chunk -> {
          int r1 = RowSplit.start(chunk + 1, chunks, rows);
          for (int r = RowSplit.start(chunk, chunks, rows); r < r1; r++) {
            for (int t = 0; t < tokens; t++) {
              y[t * rows + r] = w.dotColumnsFrom(r, 0, x, t * cols);
            }
          }
        });
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    float sum = 0f;
    for (int i = 0; i < n; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    for (int i = 0; i < n; i++) {
      y[yOffset + i] += alpha * x[xOffset + i];
    }
  }
}
