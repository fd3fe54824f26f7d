package io.moeflink.engine.moe;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The routed experts of one shard: the {@code (layer, expert)} pairs its {@link ExpertPlacement}
 * assigns to it, memory-mapped from the checkpoint (or resident on the shard's GPU). It computes
 * {@link ExpertBatch}es into raw, unweighted outputs; weighting and summing are the owner's.
 */
public final class ExpertShard {
  private final ModelConfig config;
  private final int shard;
  private final Map<Long, Expert> experts; // (layer, expert) -> weights

  private ExpertShard(ModelConfig config, int shard, Map<Long, Expert> experts) {
    this.config = config;
    this.shard = shard;
    this.experts = experts;
  }

  /** Loads (maps) the experts {@code placement} assigns to {@code shard}, for every MoE layer. */
  public static ExpertShard load(Checkpoint ck, ModelConfig config, ExpertPlacement placement, int shard) {
    return load(ck, config, placement, shard, false);
  }

  /**
   * As {@link #load(Checkpoint, ModelConfig, ExpertPlacement, int)}, and with {@code mtp} the
   * experts of the MTP module's layer ({@code num_hidden_layers}) too.
   */
  public static ExpertShard load(Checkpoint ck, ModelConfig config, ExpertPlacement placement, int shard, boolean mtp) {
    Map<Long, Expert> experts = new HashMap<>();
    int end = config.numHiddenLayers() + (mtp ? 1 : 0);
    for (int layer = config.firstKDenseReplace(); layer < end; layer++) {
      for (int e : placement.expertsOf(layer, shard)) {
        experts.put(key(layer, e),
            Expert.load(ck, TensorNames.expert(layer, e), config.hiddenSize(), config.moeIntermediateSize()));
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

  /**
   * Prepares the weights of every expert held for {@code k} now ({@link KernelBackend#prepare}):
   * otherwise each expert is laid out when a token first routes to it, inside that step.
   */
  public void prepareWeights(KernelBackend k) {
    List<WeightMatrix> weights = new ArrayList<>();
    for (Expert e : experts.values()) {
      weights.addAll(e.weights());
    }
    k.prepare(weights);
  }

  /** Bytes of routed-expert weights held. */
  public long bytes() {
    return experts.values().stream().mapToLong(Expert::bytes).sum();
  }

  /**
   * Bytes of weights expert {@code expert} of MoE layer {@code layer} reads per forward pass (its
   * three projections), for bandwidth accounting.
   *
   * @throws IllegalArgumentException if this shard does not hold it
   */
  public long expertBytes(int layer, int expert) {
    return expert(layer, expert).bytes();
  }

  private Expert expert(int layer, int id) {
    Expert e = experts.get(key(layer, id));
    if (e == null) {
      throw new IllegalArgumentException(
          "Shard " + shard + " was sent expert " + id + " of layer " + layer
              + ", which it does not hold: the sender's placement differs from this shard's");
    }
    return e;
  }

  /** Computes every (token, expert) pair of one batch. */
  public ExpertResult compute(KernelBackend k, ExpertBatch batch) {
    return compute(k, List.of(batch)).get(0);
  }

  /**
   * Computes batches of one layer from several senders together, so that each expert's weights
   * are read once for all their tokens; returns one result per batch, in order. Every row is
   * computed independently, so joining never changes a number.
   */
  public List<ExpertResult> compute(KernelBackend k, List<ExpertBatch> batches) {
    int layer = batches.get(0).layer();
    int d = config.hiddenSize();
    int tokens = 0;
    int pairs = 0;
    for (ExpertBatch b : batches) {
      if (b.layer() != layer) {
        throw new IllegalArgumentException("Batches of layers " + layer + " and " + b.layer() + " computed together");
      }
      tokens += b.tokens();
      pairs += b.pairs();
    }
    Activations hidden = upload(k, batches, tokens, d); // (tokens, D)
    Map<Integer, Rows> byExpert = group(batches);
    Activations out = k.allocate(pairs * d); // (pairs, D)
    List<Map.Entry<Integer, Rows>> work = new ArrayList<>(byExpert.entrySet());
    // One task per expert: each expert is a few small matmuls, too small to split well by rows
    // (batch 1 has six of 1.5 MB each); its rows are still split if a worker is free. Each expert
    // writes only its own pairs' rows, and every element's sum is the kernel's, whatever the
    // thread, so the result does not depend on the scheduling.
    k.parallelFor(work.size(), i -> {
      Expert expert = expert(layer, work.get(i).getKey());
      Rows rows = work.get(i).getValue();
      int n = rows.size;
      int inter = expert.intermediateSize();
      try (Activations x = k.allocate(n * d); Activations y = k.allocate(n * d);
          Activations g = k.allocate(n * inter); Activations u = k.allocate(n * inter)) {
        k.gatherRows(hidden, rows.tokens(), d, x);
        expert.forward(k, x, n, y, g, u);
        k.scatterRows(y, rows.pairs(), d, out);
      }
    });
    float[] all = k.toHost(out, pairs * d);
    List<ExpertResult> results = new ArrayList<>(batches.size());
    int p = 0;
    for (ExpertBatch b : batches) {
      float[] rows = batches.size() == 1 && all.length == pairs * d ? all
          : Arrays.copyOfRange(all, p * d, (p + b.pairs()) * d);
      results.add(new ExpertResult(layer, b.pairs(), rows));
      p += b.pairs();
    }
    out.close();
    hidden.close();
    return results;
  }

  private static Activations upload(KernelBackend k, List<ExpertBatch> batches, int tokens, int d) {
    if (batches.size() == 1) {
      return k.upload(batches.get(0).hidden());
    }
    Activations hidden = k.allocate(tokens * d);
    int t = 0;
    for (ExpertBatch b : batches) {
      k.write(hidden, t * d, b.hidden(), 0, b.tokens() * d);
      t += b.tokens();
    }
    return hidden;
  }

  /** Each expert's rows across the batches: hidden rows to read, result rows to write. */
  private static Map<Integer, Rows> group(List<ExpertBatch> batches) {
    Map<Integer, Rows> byExpert = new TreeMap<>();
    int tokenBase = 0;
    int pairBase = 0;
    for (ExpertBatch b : batches) {
      for (int i = 0; i < b.experts().length; i++) {
        Rows rows = byExpert.computeIfAbsent(b.experts()[i], e -> new Rows());
        for (int p = b.expertStarts()[i]; p < b.expertStarts()[i + 1]; p++) {
          rows.add(tokenBase + b.pairTokens()[p], pairBase + p);
        }
      }
      tokenBase += b.tokens();
      pairBase += b.pairs();
    }
    return byExpert;
  }

  /** The rows of one expert: where its inputs are and where its outputs go. */
  private static final class Rows {
    private int[] tokens = new int[4];
    private int[] pairs = new int[4];
    private int size;

    void add(int token, int pair) {
      if (size == tokens.length) {
        tokens = Arrays.copyOf(tokens, size * 2);
        pairs = Arrays.copyOf(pairs, size * 2);
      }
      tokens[size] = token;
      pairs[size++] = pair;
    }

    int[] tokens() {
      return Arrays.copyOf(tokens, size);
    }

    int[] pairs() {
      return Arrays.copyOf(pairs, size);
    }
  }
}
