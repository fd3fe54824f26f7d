package io.moeflink.engine.model;

import io.moeflink.engine.kernel.WeightMatrix;
import java.util.List;

/**
 * The second half of a transformer block, as DeepSeek's {@code model.py} chooses it: {@code MLP if
 * layer_id < n_dense_layers else MoE}. An {@link Mlp} runs in one go; a {@link MixtureOfExperts}
 * pauses the pass while the expert shards compute.
 */
sealed interface FeedForward permits Mlp, MixtureOfExperts {

  /** The weights a pass reads here, routed experts excluded. */
  List<WeightMatrix> weights();

  /** Bytes of weights one decode step reads here, routed experts excluded. */
  default long bytes() {
    return WeightMatrix.bytes(weights());
  }
}
