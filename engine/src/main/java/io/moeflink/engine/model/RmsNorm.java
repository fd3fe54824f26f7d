package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;

/**
 * Root-mean-square normalisation: {@code y = x / sqrt(mean(x^2) + eps) * w}. The epsilon sits
 * inside the square root and the weight multiplies after normalising (golden README, RMSNorm).
 */
final class RmsNorm {
  private final float[] weight; // (dim)
  private final double eps;

  RmsNorm(float[] weight, double eps) {
    this.weight = weight;
    this.eps = eps;
  }

  static RmsNorm load(Checkpoint checkpoint, String name, int dim, double eps) {
    return new RmsNorm(checkpoint.tensor(name, dim).toFloatArray(), eps);
  }

  int dim() {
    return weight.length;
  }

  /** Normalises {@code rows} rows of {@code dim} elements, each starting every {@code stride}. */
  void apply(float[] x, int xOffset, int stride, int rows, float[] y, int yOffset, int yStride) {
    int dim = weight.length;
    for (int r = 0; r < rows; r++) {
      int xo = xOffset + r * stride;
      int yo = yOffset + r * yStride;
      double sumSquares = 0;
      for (int i = 0; i < dim; i++) {
        sumSquares += (double) x[xo + i] * x[xo + i];
      }
      float inv = (float) (1.0 / Math.sqrt(sumSquares / dim + eps));
      for (int i = 0; i < dim; i++) {
        y[yo + i] = (x[xo + i] * inv) * weight[i];
      }
    }
  }

  /** Normalises {@code rows} contiguous rows of {@code dim} elements. */
  float[] apply(float[] x, int rows) {
    float[] y = new float[x.length];
    apply(x, 0, dim(), rows, y, 0, dim());
    return y;
  }
}
