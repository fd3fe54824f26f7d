package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.ExpertOutputs;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertResult;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DeepSeekMoE (V3 paper section 2.1.2) on the owner's side of the expert-parallel seam: the router
 * chooses each token's routed experts, {@link #dispatch} groups the tokens by the shard holding
 * their experts, the shards compute elsewhere (or in this process), and {@link #combine} adds
 * {@code sum_e w_e * expert_e(x) + shared(x)} to the residual stream, experts in ascending id.
 */
final class MixtureOfExperts implements FeedForward {
  private final ModelConfig config;
  private final int layer;
  private final Router router;
  private final Mlp sharedExperts; // null when n_shared_experts is 0

  private MixtureOfExperts(ModelConfig config, int layer, Router router, Mlp sharedExperts) {
    this.config = config;
    this.layer = layer;
    this.router = router;
    this.sharedExperts = sharedExperts;
  }

  static MixtureOfExperts load(Checkpoint ck, ModelConfig c, int layer) {
    Mlp shared = c.nSharedExperts() == 0 ? null
        : Mlp.load(ck, TensorNames.layer(layer) + "mlp.shared_experts.", c.hiddenSize(),
            c.nSharedExperts() * c.moeIntermediateSize());
    return new MixtureOfExperts(c, layer, Router.load(ck, c, layer), shared);
  }

  Router router() {
    return router;
  }

  /** Width of the shared experts' hidden layer, 0 without them. */
  int sharedIntermediateSize() {
    return sharedExperts == null ? 0 : sharedExperts.intermediateSize();
  }

  /**
   * Routes {@code b.normed} and groups each token's experts by shard: each token goes once to
   * each shard it needs, its rows grouped by expert the way the shard computes them.
   */
  RoutedLayer dispatch(KernelBackend k, PassBuffers b, ExpertPlacement placement) {
    int rows = b.rows();
    Routing routing = router.route(k, b.normed, rows, b.routerScores);
    float[] x = k.toHost(b.normed, rows * config.hiddenSize()); // (rows, D)
    return new RoutedLayer(routing, group(x, rows, routing, placement));
  }

  /** The batches per shard and, for pair (t, j), its shard and row in that shard's result. */
  private Grouping group(float[] x, int rows, Routing routing, ExpertPlacement placement) {
    int d = config.hiddenSize();
    int k = routing.k();
    int shards = placement.shards();
    int[] pairsOfExpert = new int[config.nRoutedExperts()];
    int[] tokensOfShard = new int[shards];
    int[] lastToken = new int[shards];
    Arrays.fill(lastToken, -1);
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < k; j++) {
        int e = routing.experts()[t * k + j];
        int s = placement.shardOf(layer, e);
        pairsOfExpert[e]++;
        if (lastToken[s] != t) {
          lastToken[s] = t;
          tokensOfShard[s]++;
        }
      }
    }
    // per shard: its experts ascending, each expert's first pair within the shard's batch
    int[] expertsOfShard = new int[shards];
    int[] pairsOfShard = new int[shards];
    int[] firstPair = new int[config.nRoutedExperts()];
    for (int e = 0; e < pairsOfExpert.length; e++) {
      if (pairsOfExpert[e] > 0) {
        int s = placement.shardOf(layer, e);
        firstPair[e] = pairsOfShard[s];
        pairsOfShard[s] += pairsOfExpert[e];
        expertsOfShard[s]++;
      }
    }
    float[][] hidden = new float[shards][];
    int[][] experts = new int[shards][];
    int[][] starts = new int[shards][];
    int[][] pairTokens = new int[shards][];
    for (int s = 0; s < shards; s++) {
      if (tokensOfShard[s] > 0) {
        hidden[s] = new float[tokensOfShard[s] * d];
        experts[s] = new int[expertsOfShard[s]];
        starts[s] = new int[expertsOfShard[s] + 1];
        pairTokens[s] = new int[pairsOfShard[s]];
      }
    }
    int[] filled = new int[shards];
    for (int e = 0; e < pairsOfExpert.length; e++) {
      if (pairsOfExpert[e] > 0) {
        int s = placement.shardOf(layer, e);
        experts[s][filled[s]] = e;
        starts[s][filled[s]++] = firstPair[e];
      }
    }
    int[] sourceOf = new int[rows * k];
    int[] rowOf = new int[rows * k];
    int[] tokensFilled = new int[shards];
    int[] pairsFilled = new int[config.nRoutedExperts()];
    Arrays.fill(lastToken, -1);
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < k; j++) { // experts ascending within the token
        int e = routing.experts()[t * k + j];
        int s = placement.shardOf(layer, e);
        if (lastToken[s] != t) {
          lastToken[s] = t;
          System.arraycopy(x, t * d, hidden[s], tokensFilled[s] * d, d);
          tokensFilled[s]++;
        }
        int pair = firstPair[e] + pairsFilled[e]++;
        pairTokens[s][pair] = tokensFilled[s] - 1;
        sourceOf[t * k + j] = s;
        rowOf[t * k + j] = pair;
      }
    }
    ExpertBatch[] batches = new ExpertBatch[shards];
    for (int s = 0; s < shards; s++) {
      if (tokensOfShard[s] > 0) {
        starts[s][expertsOfShard[s]] = pairsOfShard[s];
        batches[s] = new ExpertBatch(layer, tokensOfShard[s], hidden[s], experts[s], starts[s], pairTokens[s]);
      }
    }
    return new Grouping(new MoeDispatch(layer, batches), sourceOf, rowOf);
  }

  /** Computes the shared experts of {@code round} into {@code b.shared}, once. */
  void runSharedExperts(KernelBackend k, PassBuffers b, RoutedLayer round) {
    if (sharedExperts != null && !round.sharedDone) {
      sharedExperts.forward(k, b.normed, b.rows(), b.ffnOut, b.ffnGate, b.ffnUp);
      round.sharedDone = true;
    }
  }

  /** {@code h += (sum_e w_e * expert_e(x)) + shared(x)}, experts summed in ascending id. */
  void combine(KernelBackend k, PassBuffers b, RoutedLayer round) {
    runSharedExperts(k, b, round);
    Routing r = round.routing;
    ExpertOutputs outputs = new ExpertOutputs(
        r.tokens(), r.k(), r.weights(), round.outputs, round.grouping.sourceOf(), round.grouping.rowOf());
    k.combineExperts(b.hidden, config.hiddenSize(), outputs, sharedExperts == null ? null : b.ffnOut);
  }

  @Override
  public List<WeightMatrix> weights() {
    List<WeightMatrix> weights = new ArrayList<>(router.weights());
    if (sharedExperts != null) {
      weights.addAll(sharedExperts.weights());
    }
    return weights;
  }

  /** The dispatch and, for pair (t, j), the shard computing it and its row in that shard's result. */
  record Grouping(MoeDispatch dispatch, int[] sourceOf, int[] rowOf) {}

  /** A MoE layer between dispatch and combine: the routing and the shards' results so far. */
  final class RoutedLayer {
    final Routing routing;
    final Grouping grouping;
    final float[][] outputs; // (shards)(pairs, D), null until received
    int missing;
    boolean sharedDone;

    RoutedLayer(Routing routing, Grouping grouping) {
      this.routing = routing;
      this.grouping = grouping;
      this.outputs = new float[grouping.dispatch().batches().length][];
      this.missing = grouping.dispatch().shardsInvolved();
    }

    MoeDispatch dispatch() {
      return grouping.dispatch();
    }

    /** Stores shard {@code shard}'s result; true when it was the last one missing. */
    boolean accept(int shard, ExpertResult result) {
      if (result.layer() != layer) {
        throw new IllegalArgumentException("Result for layer " + result.layer() + " while layer " + layer + " is waiting");
      }
      ExpertBatch sent = dispatch().batches()[shard];
      if (sent == null || outputs[shard] != null) {
        throw new IllegalArgumentException("Unexpected or duplicate result from shard " + shard + " for layer " + layer);
      }
      if (result.pairs() != sent.pairs()) {
        throw new IllegalArgumentException(
            "Shard " + shard + " returned " + result.pairs() + " rows for layer " + layer + ", expected " + sent.pairs());
      }
      outputs[shard] = result.outputs();
      return --missing == 0;
    }
  }
}
