package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.RowLayout;
import io.moeflink.engine.kernel.WeightVector;

/**
 * Root-mean-square normalisation: {@code y = x / sqrt(mean(x^2) + eps) * w}. The epsilon sits
 * inside the square root and the weight multiplies after normalising (golden README, RMSNorm).
 */
final class RmsNorm {
  private final WeightVector weight; // (dim)
  private final double eps;

  RmsNorm(WeightVector weight, double eps) {
    this.weight = weight;
    this.eps = eps;
  }

  static RmsNorm load(Checkpoint checkpoint, String name, int dim, double eps) {
    return new RmsNorm(new WeightVector(name, checkpoint.tensor(name, dim).toFloatArray()), eps);
  }

  int dim() {
    return weight.length();
  }

  WeightVector weight() {
    return weight;
  }

  double eps() {
    return eps;
  }

  /** {@code y = norm(x)} for {@code rows} packed rows; {@code y} may be {@code x}. */
  void apply(KernelBackend k, Activations x, int rows, Activations y) {
    RowLayout packed = RowLayout.packed(dim());
    k.rmsNorm(x, packed, rows, weight, eps, y, packed);
  }
}
