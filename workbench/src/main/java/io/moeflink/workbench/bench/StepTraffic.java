package io.moeflink.workbench.bench;

import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.List;

/**
 * Weight bytes one forward step really reads: the dense part once ({@link
 * io.moeflink.engine.model.Model#denseBytesPerStep()}: attention projections, dense MLP, shared
 * experts, routers, LM head), plus, per MoE layer, each DISTINCT routed expert the batch touched
 * once, since a shard reads an expert's weights once for all the tokens routed to it. Tokens that
 * share an expert do not add traffic; that is why batch 16 reads about 40, not 96, experts a layer.
 *
 * <p>Not counted: the embedding rows (a few KiB), norm weights and FP8 block scales (under 0.1%),
 * and the latent KV cache (small for the short contexts the benchmark decodes at).
 */
final class StepTraffic {
  private final long denseBytes;
  private final List<ExpertShard> shards; // indexed like the dispatch's batches

  StepTraffic(long denseBytes, List<ExpertShard> shards) {
    this.denseBytes = denseBytes;
    this.shards = List.copyOf(shards);
  }

  /** Bytes a step reads, given the dispatch of each of its MoE layers. */
  StepBytes of(List<MoeDispatch> dispatches) {
    long expertBytes = 0;
    int distinct = 0;
    for (MoeDispatch d : dispatches) {
      ExpertBatch[] batches = d.batches();
      for (int s = 0; s < batches.length; s++) {
        if (batches[s] == null) {
          continue;
        }
        for (int e : batches[s].experts()) { // distinct already
          expertBytes += shards.get(s).expertBytes(d.layer(), e);
          distinct++;
        }
      }
    }
    return new StepBytes(denseBytes, expertBytes, distinct, dispatches.size());
  }

  /**
   * @param denseBytes the dense part
   * @param expertBytes the distinct routed experts touched, summed over MoE layers
   * @param distinctExperts distinct (layer, expert) pairs touched
   * @param moeLayers MoE layers in the step
   */
  record StepBytes(long denseBytes, long expertBytes, int distinctExperts, int moeLayers) {
    long total() {
      return denseBytes + expertBytes;
    }

    double distinctExpertsPerLayer() {
      return moeLayers == 0 ? 0 : (double) distinctExperts / moeLayers;
    }
  }
}
