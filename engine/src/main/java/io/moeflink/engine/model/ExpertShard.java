package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import java.util.HashMap;
import java.util.Map;

/**
 * The routed experts one shard holds: only the {@code (layer, expert)} pairs its placement
 * assigns to it. Computes raw expert outputs for the tokens sent to it; weights and the combine
 * stay with the sequence's owner.
 */
public final class ExpertShard {
  private final ModelConfig config;
  private final int shard;
  private final Map<Long, Mlp> experts; // (layer, expert) -> weights

  private ExpertShard(ModelConfig config, int shard, Map<Long, Mlp> experts) {
    this.config = config;
    this.shard = shard;
    this.experts = experts;
  }

  /** Loads (maps) the experts {@code placement} assigns to {@code shard}, for every MoE layer. */
  public static ExpertShard load(Checkpoint ck, ModelConfig config, ExpertPlacement placement, int shard) {
    Map<Long, Mlp> experts = new HashMap<>();
    for (int layer = config.firstKDenseReplace(); layer < config.numHiddenLayers(); layer++) {
      for (int e : placement.expertsOf(layer, shard)) {
        experts.put(key(layer, e),
            Mlp.load(ck, TensorNames.expert(layer, e), config.hiddenSize(), config.moeIntermediateSize()));
      }
    }
    return new ExpertShard(config, shard, experts);
  }

  private static long key(int layer, int expert) {
    return ((long) layer << 32) | expert;
  }

  /** Number of (layer, expert) pairs held. */
  public int expertCount() {
    return experts.size();
  }

  public int shard() {
    return shard;
  }

  /** Bytes of routed-expert weights held. */
  public long bytes() {
    return experts.values().stream().mapToLong(Mlp::bytes).sum();
  }

  /**
   * Bytes of weights expert {@code expert} of MoE layer {@code layer} reads per forward pass (its
   * three projections), for bandwidth accounting.
   *
   * @throws IllegalArgumentException if this shard does not hold it
   */
  public long expertBytes(int layer, int expert) {
    Mlp mlp = experts.get(key(layer, expert));
    if (mlp == null) {
      throw new IllegalArgumentException("Shard " + shard + " does not hold expert " + expert + " of layer " + layer);
    }
    return mlp.bytes();
  }

  /** Computes every (token, expert) pair of a batch. */
  public ExpertResult compute(KernelBackend k, ExpertBatch batch) {
    int d = config.hiddenSize();
    float[] out = new float[batch.pairs() * d];
    // group the pairs by expert so each expert's weights are read once for all its tokens
    Map<Integer, int[]> pairsByExpert = new java.util.TreeMap<>();
    int[] counts = new int[config.nRoutedExperts()];
    for (int id : batch.expertIds()) {
      counts[id]++;
    }
    int[] fill = new int[config.nRoutedExperts()];
    for (int t = 0; t < batch.tokens(); t++) {
      for (int p = batch.expertOffsets()[t]; p < batch.expertOffsets()[t + 1]; p++) {
        int e = batch.expertIds()[p];
        int[] pairs = pairsByExpert.computeIfAbsent(e, id -> new int[counts[id]]);
        pairs[fill[e]++] = p;
      }
    }
    int[] tokenOfPair = new int[batch.pairs()];
    for (int t = 0; t < batch.tokens(); t++) {
      for (int p = batch.expertOffsets()[t]; p < batch.expertOffsets()[t + 1]; p++) {
        tokenOfPair[p] = t;
      }
    }
    int[] ids = new int[pairsByExpert.size()];
    int[][] pairsOf = new int[ids.length][];
    int n = 0;
    for (Map.Entry<Integer, int[]> entry : pairsByExpert.entrySet()) {
      Mlp expert = experts.get(key(batch.layer(), entry.getKey()));
      if (expert == null) {
        throw new IllegalArgumentException(
            "Shard " + shard + " was sent expert " + entry.getKey() + " of layer " + batch.layer()
                + ", which it does not hold: the sender's placement differs from this shard's");
      }
      ids[n] = entry.getKey();
      pairsOf[n++] = entry.getValue();
    }
    // One task per expert: each expert is a few small matmuls, too small to split well by rows
    // (batch 1 has six of 1.5 MB each); its rows are still split if a worker is free. Each expert
    // writes only its own pairs' rows of out, and every element's sum is the kernel's, whatever
    // the thread, so the result does not depend on the scheduling.
    k.parallelFor(n, i -> {
      int[] pairs = pairsOf[i];
      float[] x = new float[pairs.length * d]; // (pairs of expert i, D)
      for (int j = 0; j < pairs.length; j++) {
        System.arraycopy(batch.hidden(), tokenOfPair[pairs[j]] * d, x, j * d, d);
      }
      float[] y = experts.get(key(batch.layer(), ids[i])).forward(k, x, pairs.length);
      for (int j = 0; j < pairs.length; j++) {
        System.arraycopy(y, j * d, out, pairs[j] * d, d);
      }
    });
    return new ExpertResult(batch.layer(), batch.pairs(), out);
  }
}
