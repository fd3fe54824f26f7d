package io.moeflink.engine.model;

/**
 * The second half of a transformer block, as DeepSeek's {@code model.py} chooses it: {@code MLP if
 * layer_id < n_dense_layers else MoE}. An {@link Mlp} runs in one go; a {@link MixtureOfExperts}
 * pauses the pass while the expert shards compute.
 */
sealed interface FeedForward permits Mlp, MixtureOfExperts {

  /** Bytes of weights one decode step reads here, routed experts excluded. */
  long bytes();
}
