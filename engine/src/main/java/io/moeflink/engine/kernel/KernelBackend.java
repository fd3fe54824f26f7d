package io.moeflink.engine.kernel;

import java.util.function.IntConsumer;

/**
 * The compute kernels the model runs on. Implementations: {@link ScalarBackend} (the reference),
 * {@link VectorBackend} (the Vector API) and {@link io.moeflink.engine.kernel.cuda.CudaBackend}
 * (NVIDIA GPUs through JCuda); {@link Backends} chooses one by name.
 *
 * <p>Determinism contract: every output element is reduced in an order fixed by the weight's
 * shape alone, never by the number of tokens in the call or the number of threads. Work is split
 * across threads by output rows, never across the reduction dimension.
 */
public interface KernelBackend extends AutoCloseable {

  /** A name for logs and benchmark output: {@code scalar}, {@code vector(512 bit)}. */
  String name();

  /**
   * {@code y[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens}.
   *
   * @param x (tokens, w.cols) row-major
   * @param y (tokens, w.rows) row-major, overwritten
   */
  void matmul(WeightMatrix w, float[] x, int tokens, float[] y);

  /** {@code sum_i a[aOffset + i] * b[bOffset + i]} for {@code i < n}, in a fixed order. */
  float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

  /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
  void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n);

  /** Runs {@code body(i)} for {@code i < count}, possibly in parallel; returns when all finished. */
  void parallelFor(int count, IntConsumer body);

  /** Worker threads this backend computes with. */
  int threads();

  @Override
  void close();
}
