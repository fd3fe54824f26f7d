package io.moeflink.engine.kernel;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The operations a transformer block is made of, over {@link Activations} the backend holds:
 * projections, RMSNorm, RoPE, SiLU-and-multiply, the router's scoring, MLA's latent cache and
 * attention, and the MoE combine. Implementations: {@link ScalarBackend} (the reference), {@link
 * VectorBackend} (the Vector API) and {@link io.moeflink.engine.kernel.cuda.CudaBackend} (NVIDIA
 * GPUs through JCuda, activations and caches in device memory); {@link Backends} creates one by
 * {@link BackendKind}.
 *
 * <p>A pass allocates its buffers once, uploads the new tokens' embeddings, runs block operations
 * on the backend and reads back only what the host needs: routing scores, the rows the expert
 * shards compute, logits. On the CPU backends nothing is copied on the way in or out.
 *
 * <p>Determinism contract: every output element is reduced in an order fixed by the operands'
 * shapes alone, never by the number of tokens in the call or the number of threads. Work is split
 * across threads by output rows (or heads, or token rows), never across a reduction. The
 * exponential of the attention softmax and of SiLU is {@link FloatExp}'s, operation for operation.
 *
 * <p>A backend is driven by one thread at a time (a device backend keeps one stream); the
 * host-array kernels ({@link #matmul(WeightMatrix, float[], int, float[])}, {@link #dot}, {@link
 * #axpy}) may be called from inside {@link #parallelFor}.
 */
public interface KernelBackend extends AutoCloseable {

  /** A name for logs and benchmark output: {@code scalar}, {@code vector(512 bit)}. */
  String name();

  /** Worker threads this backend computes with (host threads for a device backend). */
  int threads();

  // ---- activations --------------------------------------------------------------------------

  /** A zeroed buffer of {@code floats} values. */
  Activations allocate(int floats);

  /**
   * A buffer holding {@code values}, which the caller hands over: a CPU backend uses the array
   * itself (so it must not be changed while the buffer is in use), a device backend copies it.
   */
  Activations upload(float[] values);

  /** Copies {@code src[srcOffset .. + n)} into {@code dst[dstOffset ..]}. */
  void write(Activations dst, int dstOffset, float[] src, int srcOffset, int n);

  /** Copies {@code src[srcOffset .. + n)} into {@code dst[dstOffset ..]}. */
  void read(Activations src, int srcOffset, float[] dst, int dstOffset, int n);

  /**
   * The first {@code n} values of {@code src} on the host, to read only: a CPU backend returns its
   * own array (no copy, possibly longer than {@code n}), a device backend a downloaded copy.
   */
  float[] toHost(Activations src, int n);

  /** {@code dst[i] = src[rows[i]]} for rows of {@code width}. */
  void gatherRows(Activations src, int[] rows, int width, Activations dst);

  /** {@code dst[rows[i]] = src[i]} for rows of {@code width}. */
  void scatterRows(Activations src, int[] rows, int width, Activations dst);

  /** Copies {@code n} values from {@code src[srcOffset ..]} to {@code dst[dstOffset ..]}. */
  void copy(Activations src, int srcOffset, Activations dst, int dstOffset, int n);

  // ---- block operations ---------------------------------------------------------------------

  /**
   * {@code y[t][r] = sum_c W[r][c] * x[t][c]} for {@code t < tokens}.
   *
   * @param x (tokens, w.cols) packed
   * @param y (tokens, w.rows) packed, overwritten
   */
  void matmul(WeightMatrix w, Activations x, int tokens, Activations y);

  /**
   * A projection per head: for every head {@code h} and token {@code t}, {@code y(t, h) = W_h
   * x(t, h)}, where {@code x(t, h)} is the {@code W_h.cols} values at {@code in.at(t, h)} and the
   * {@code W_h.rows} results go to {@code out.at(t, h)}. Every {@code W_h} has the same shape.
   */
  void matmulPerHead(WeightMatrix[] w, Activations x, HeadLayout in, int tokens, Activations y, HeadLayout out);

  /**
   * RMSNorm of {@code rows} rows of {@code weight.length()}: {@code y = x / sqrt(mean(x^2) + eps) *
   * w}, the sum of squares in double. {@code y} may be {@code x} with the same layout.
   */
  void rmsNorm(Activations x, RowLayout in, int rows, WeightVector weight, double eps, Activations y, RowLayout out);

  /**
   * Interleaved RoPE in place: for every row {@code r < rows} and head {@code h < heads}, pairs
   * {@code (v[2i], v[2i+1])} of the slice at {@code at.at(r, h)} rotate by row {@code r}'s angles.
   *
   * @param angles (rows, 2 * pairs): each row's cosines, then its sines
   */
  void rotate(Activations v, HeadLayout at, int heads, int rows, Activations angles);

  /** {@code g[i] = silu(g[i]) * u[i]} for {@code i < n}, {@code silu(z) = z / (1 + exp(-z))} ({@link FloatExp}). */
  void siluMultiply(Activations g, Activations u, int n);

  /** {@code acc[i] += x[i]} for {@code i < n}: the residual connection. */
  void add(Activations acc, Activations x, int n);

  /**
   * The router's affinities: {@code scores = sigmoid(gate x)}, {@code (tokens, gate.rows)}.
   * Selection (bias, groups, top-k) happens on the host, on these scores.
   */
  void routerScores(WeightMatrix gate, Activations x, int tokens, Activations scores);

  /**
   * MLA's cache write: for every row {@code i} of {@code kva} ({@code (rows, rank + ropeDim)} =
   * {@code [latent | k_pe]}), the RMS-normalised latent goes to {@code cache.latents()[i]} and
   * {@code k_pe}, rotated by the row's angles, to {@code cache.ropeKeys()[i]}, both at position
   * {@code cache.positions()[i]}. {@code kva}'s rotary part is rotated in place.
   *
   * @param angles (rows, ropeDim): as in {@link #rotate}
   */
  void cacheLatents(
      Activations kva, int rank, int ropeDim, WeightVector kvNorm, double eps, Activations angles, CacheRows cache);

  /**
   * MLA's absorbed attention: for every row {@code i} and head {@code h}, scores over the cached
   * positions {@code t <= positions[i]} are {@code (q_latent(i, h) . c_t + q_pe(i, h) . k_pe_t) *
   * scale}; their softmax weighs the cached latents into {@code out(i, h)}. Every row runs the same
   * loop whether it is prefill or decode, so chunked prefill equals full prefill.
   *
   * @param queryLatent (rows, heads, rank) packed: the query with the key up-projection absorbed
   * @param queryRope where each row and head's rotated {@code q_pe} (ropeDim values) sits
   * @param out (rows, heads, rank) packed, overwritten
   */
  void latentAttention(
      Activations queryLatent, Activations query, HeadLayout queryRope, int heads, int rank, int ropeDim, float scale,
      CacheRows cache, Activations out);

  /**
   * The MoE combine: {@code hidden[t] += sum_j w_tj * expert_j(t) + shared[t]}, the experts summed
   * in ascending expert id before the shared experts' output is added.
   *
   * @param shared (tokens, width), or null for a layer without shared experts
   */
  void combineExperts(Activations hidden, int width, ExpertOutputs experts, Activations shared);

  // ---- host-array kernels -------------------------------------------------------------------

  /**
   * {@code y[t][r] = sum_c W[r][c] * x[t][c]} on host arrays, in the same order as {@link
   * #matmul(WeightMatrix, Activations, int, Activations)}.
   */
  void matmul(WeightMatrix w, float[] x, int tokens, float[] y);

  /** {@code sum_i a[aOffset + i] * b[bOffset + i]} for {@code i < n}, in a fixed order. */
  float dot(float[] a, int aOffset, float[] b, int bOffset, int n);

  /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < n}. */
  void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n);

  /**
   * Brings {@code weights} into the form this backend's kernels read (the CPU kernels' row blocks,
   * a device's memory) now rather than at their first use, so that the first steps do not pay for
   * it. Without this call each matrix is prepared on first use; the results are the same.
   */
  void prepare(List<WeightMatrix> weights);

  /**
   * Runs {@code body(i)} for {@code i < count}, possibly in parallel on the host; returns when all
   * finished. A device backend runs them in order: its device is the parallel part.
   */
  void parallelFor(int count, IntConsumer body);

  @Override
  void close();
}
