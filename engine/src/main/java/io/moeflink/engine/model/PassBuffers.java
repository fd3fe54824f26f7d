package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;

/**
 * The activations of one forward pass, allocated once on its backend and reused by every layer
 * (llama3.java's {@code State}). Sizes follow the pass's token rows {@code n}.
 */
final class PassBuffers implements AutoCloseable {
  private final int rows;
  final Activations hidden; // (n, D) the residual stream
  final Activations normed; // (n, D) attn_norm(x), then ffn_norm(x)
  final Activations angles; // (n, dr) each row's rotary cosines, then sines
  final Activations queryLatent; // (n, qLoraRank), unused on the q_proj path
  final Activations query; // (n, H, dn + dr)
  final Activations kva; // (n, kvLoraRank + dr) [latent | k_pe]
  final Activations queryAbsorbed; // (n, H, kvLoraRank)
  final Activations attended; // (n, H, kvLoraRank) softmax-weighted latents
  final Activations values; // (n, H, dv)
  final Activations attnOut; // (n, D)
  final Activations ffnGate; // (n, I) gate projection, then silu(gate) * up
  final Activations ffnUp; // (n, I)
  final Activations ffnOut; // (n, D) the dense MLP's or the shared experts' output
  final Activations routerScores; // (n, E)

  PassBuffers(ModelConfig c, KernelBackend k, int rows, int intermediate, float[] embeddings, float[] angles) {
    this(c, k, rows, intermediate, k.upload(embeddings), angles);
  }

  /** Buffers whose residual stream starts as {@code hidden} (rows, D), which they then own. */
  PassBuffers(ModelConfig c, KernelBackend k, int rows, int intermediate, Activations hidden, float[] angles) {
    this.rows = rows;
    int heads = c.numHeads();
    int d = c.hiddenSize();
    int rank = c.kvLoraRank();
    this.hidden = hidden;
    this.normed = k.allocate(rows * d);
    this.angles = k.upload(angles);
    this.queryLatent = k.allocate(c.hasQueryLora() ? rows * c.qLoraRank() : 0);
    this.query = k.allocate(rows * heads * c.qkHeadDim());
    this.kva = k.allocate(rows * (rank + c.qkRopeHeadDim()));
    this.queryAbsorbed = k.allocate(rows * heads * rank);
    this.attended = k.allocate(rows * heads * rank);
    this.values = k.allocate(rows * heads * c.vHeadDim());
    this.attnOut = k.allocate(rows * d);
    this.ffnGate = k.allocate(rows * intermediate);
    this.ffnUp = k.allocate(rows * intermediate);
    this.ffnOut = k.allocate(rows * d);
    this.routerScores = k.allocate(c.moeLayerCount() > 0 ? rows * c.nRoutedExperts() : 0);
  }

  /** Token rows of the pass. */
  int rows() {
    return rows;
  }

  @Override
  public void close() {
    for (Activations a : new Activations[] {
        hidden, normed, angles, queryLatent, query, kva, queryAbsorbed, attended, values, attnOut, ffnGate, ffnUp,
        ffnOut, routerScores}) {
      a.close();
    }
  }
}
