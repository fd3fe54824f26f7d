package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.KernelBackend;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One step of the model over a micro-batch of sequence chunks (prefill chunks and decode tokens
 * mixed), resumable at every MoE layer: {@link #advance()} runs the dense compute up to the next
 * MoE layer and returns its dispatch, grouped by destination shard; {@link #accept} takes each
 * shard's raw expert outputs; once all have arrived the owner combines them (ascending expert id,
 * then the shared experts) and the next {@code advance()} continues. When {@code advance()}
 * returns {@code null} the pass is complete and {@link #logits(int)} is available. A caller whose
 * shards compute elsewhere calls {@link #runSharedExperts()} while it waits.
 *
 * <p>The transport is not this class's business: {@link LocalExchange} calls in-process shards,
 * the Flink operators send the batches over the network. Both compute exactly the same numbers.
 *
 * <p>Not thread-safe: one pass is driven by one thread.
 */
public final class ForwardPass {
  private final Model model;
  private final ModelConfig config;
  private final KernelBackend kernels;
  private final ExpertPlacement placement;
  private final List<SequenceChunk> chunks;
  private final int rows; // token rows in this pass
  private final int[] positions; // (rows)
  private final LatentKvCache[] caches; // (rows)
  private final RotaryEmbedding.Angles[] angles; // (rows)
  private final float[] hidden; // (rows, D) the residual stream
  private int layer;
  private Pending pending;
  private float[][] logits; // (chunks)(V), null for chunks that want none

  /** The MoE layer in flight: routing, its input, shared-expert output and the results received so far. */
  private static final class Pending {
    final MoeDispatch dispatch;
    final Routing routing;
    final float[] ffnInput; // (rows, D): what the shared experts read
    float[] shared; // (rows, D) once computed; stays null for a layer without shared experts
    final int[] resultRow; // (rows * k) row of pair (t, j) in its shard's result
    final ExpertResult[] results; // (shards)
    int missing;

    Pending(MoeDispatch dispatch, Routing routing, float[] ffnInput, int[] resultRow) {
      this.dispatch = dispatch;
      this.routing = routing;
      this.ffnInput = ffnInput;
      this.resultRow = resultRow;
      this.results = new ExpertResult[dispatch.batches().length];
      this.missing = dispatch.shardsInvolved();
    }
  }

  public ForwardPass(Model model, ExpertPlacement placement, List<SequenceChunk> chunks) {
    this.model = model;
    this.config = model.config();
    this.kernels = model.kernels();
    this.placement = placement;
    this.chunks = List.copyOf(chunks);
    if (chunks.isEmpty()) {
      throw new IllegalArgumentException("A forward pass needs at least one chunk");
    }
    Map<LatentKvCache, Boolean> seen = new IdentityHashMap<>();
    int n = 0;
    for (SequenceChunk c : chunks) {
      if (seen.put(c.cache(), Boolean.TRUE) != null) {
        throw new IllegalArgumentException("A sequence may appear only once in a forward pass");
      }
      n += c.tokens().length;
    }
    this.rows = n;
    this.positions = new int[n];
    this.caches = new LatentKvCache[n];
    this.angles = new RotaryEmbedding.Angles[n];
    this.hidden = new float[n * config.hiddenSize()];
    int row = 0;
    for (SequenceChunk c : chunks) {
      int start = c.cache().length();
      c.cache().ensureCapacity(start + c.tokens().length);
      for (int i = 0; i < c.tokens().length; i++, row++) {
        positions[row] = start + i;
        caches[row] = c.cache();
        angles[row] = model.rope().angles(start + i);
        model.embed(c.tokens()[i], hidden, row * config.hiddenSize());
      }
    }
  }

  /** Token rows in this pass (prefill and decode tokens together). */
  public int tokens() {
    return rows;
  }

  public List<SequenceChunk> chunks() {
    return chunks;
  }

  /**
   * Runs until the next MoE layer and returns what it needs from the expert shards, or {@code
   * null} when the pass is complete.
   */
  public MoeDispatch advance() {
    if (pending != null) {
      throw new IllegalStateException(
          "Layer " + layer + " still waits for " + pending.missing + " shard result(s); accept them before advancing");
    }
    if (logits != null) {
      return null;
    }
    int d = config.hiddenSize();
    while (layer < config.numHiddenLayers()) {
      Model.Layer l = model.layer(layer);
      // attention with its pre-norm, then the residual connection
      float[] attnOut = l.attention().forward(kernels, l.attentionNorm().apply(hidden, rows), rows, positions, caches, angles);
      addInPlace(hidden, attnOut);
      float[] x = l.ffnNorm().apply(hidden, rows);
      if (l.denseMlp() != null) {
        addInPlace(hidden, l.denseMlp().forward(kernels, x, rows));
        layer++;
        continue;
      }
      Routing routing = l.router().route(kernels, x, rows);
      pending = dispatch(x, routing);
      if (pending.missing == 0) {
        throw new IllegalStateException("Layer " + layer + " routed no token to any shard");
      }
      return pending.dispatch;
    }
    finish();
    return null;
  }

  /** Groups each token's experts by shard: each token goes once to each shard it needs. */
  private Pending dispatch(float[] x, Routing routing) {
    int d = config.hiddenSize();
    int k = routing.k();
    int shards = placement.shards();
    int[] tokenCount = new int[shards];
    int[] pairCount = new int[shards];
    int[] lastToken = new int[shards];
    java.util.Arrays.fill(lastToken, -1);
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < k; j++) {
        int s = placement.shardOf(layer, routing.experts()[t * k + j]);
        pairCount[s]++;
        if (lastToken[s] != t) {
          lastToken[s] = t;
          tokenCount[s]++;
        }
      }
    }
    float[][] hiddenOf = new float[shards][];
    int[][] offsets = new int[shards][];
    int[][] ids = new int[shards][];
    int[] tokensFilled = new int[shards];
    int[] pairsFilled = new int[shards];
    for (int s = 0; s < shards; s++) {
      if (tokenCount[s] > 0) {
        hiddenOf[s] = new float[tokenCount[s] * d];
        offsets[s] = new int[tokenCount[s] + 1];
        ids[s] = new int[pairCount[s]];
      }
    }
    int[] resultRow = new int[rows * k];
    java.util.Arrays.fill(lastToken, -1);
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < k; j++) { // experts ascending within the token
        int e = routing.experts()[t * k + j];
        int s = placement.shardOf(layer, e);
        if (lastToken[s] != t) {
          lastToken[s] = t;
          System.arraycopy(x, t * d, hiddenOf[s], tokensFilled[s] * d, d);
          offsets[s][tokensFilled[s]] = pairsFilled[s];
          tokensFilled[s]++;
        }
        resultRow[t * k + j] = pairsFilled[s];
        ids[s][pairsFilled[s]++] = e;
      }
    }
    ExpertBatch[] batches = new ExpertBatch[shards];
    for (int s = 0; s < shards; s++) {
      if (tokenCount[s] > 0) {
        offsets[s][tokenCount[s]] = pairCount[s];
        batches[s] = new ExpertBatch(layer, tokenCount[s], hiddenOf[s], offsets[s], ids[s]);
      }
    }
    return new Pending(new MoeDispatch(layer, batches), routing, x, resultRow);
  }

  /**
   * Runs the shared experts of the MoE layer in flight, if it has any and they have not run yet. A
   * caller that sends the dispatch to remote shards calls this while they compute, so the shared
   * experts overlap the routed ones; otherwise the layer runs them when its last result arrives.
   * Either way the sum is the same, bit for bit.
   */
  public void runSharedExperts() {
    if (pending == null) {
      throw new IllegalStateException("No MoE layer is in flight");
    }
    Mlp shared = model.layer(layer).sharedExperts();
    if (shared != null && pending.shared == null) {
      pending.shared = shared.forward(kernels, pending.ffnInput, rows);
    }
  }

  /** Stores shard {@code shard}'s result; when the last one arrives, combines the layer. */
  public void accept(int shard, ExpertResult result) {
    if (pending == null) {
      throw new IllegalStateException("No MoE layer is waiting for results (got one for layer " + result.layer() + ")");
    }
    if (result.layer() != layer) {
      throw new IllegalArgumentException("Result for layer " + result.layer() + " while layer " + layer + " is waiting");
    }
    ExpertBatch sent = pending.dispatch.batches()[shard];
    if (sent == null || pending.results[shard] != null) {
      throw new IllegalArgumentException("Unexpected or duplicate result from shard " + shard + " for layer " + layer);
    }
    if (result.pairs() != sent.pairs()) {
      throw new IllegalArgumentException(
          "Shard " + shard + " returned " + result.pairs() + " rows for layer " + layer + ", expected " + sent.pairs());
    }
    pending.results[shard] = result;
    if (--pending.missing == 0) {
      combine();
    }
  }

  /** The routing of the MoE layer in flight (tests and metrics); null between layers. */
  Routing routingInFlight() {
    return pending == null ? null : pending.routing;
  }

  /** Whether the layer in flight still waits for results. */
  public boolean awaitingResults() {
    return pending != null;
  }

  /** {@code h += (sum_e w_e * expert_e(x)) + shared(x)}, experts summed in ascending id. */
  private void combine() {
    runSharedExperts();
    int d = config.hiddenSize();
    int k = pending.routing.k();
    float[] y = new float[d];
    for (int t = 0; t < rows; t++) {
      java.util.Arrays.fill(y, 0f);
      for (int j = 0; j < k; j++) {
        int e = pending.routing.experts()[t * k + j];
        float w = pending.routing.weights()[t * k + j];
        float[] out = pending.results[placement.shardOf(layer, e)].outputs();
        int o = pending.resultRow[t * k + j] * d;
        for (int i = 0; i < d; i++) {
          y[i] += out[o + i] * w;
        }
      }
      int h = t * d;
      for (int i = 0; i < d; i++) {
        float ffn = pending.shared == null ? y[i] : y[i] + pending.shared[h + i];
        hidden[h + i] += ffn;
      }
    }
    pending = null;
    layer++;
  }

  private void finish() {
    int d = config.hiddenSize();
    int vocab = config.vocabSize();
    int wanted = 0;
    for (SequenceChunk c : chunks) {
      if (c.wantsLogits()) {
        wanted++;
      }
    }
    float[] last = new float[wanted * d];
    int row = 0;
    int w = 0;
    for (SequenceChunk c : chunks) {
      row += c.tokens().length;
      if (c.wantsLogits()) {
        model.finalNorm().apply(hidden, (row - 1) * d, d, 1, last, w * d, d);
        w++;
      }
    }
    float[] all = new float[wanted * vocab];
    if (wanted > 0) {
      kernels.matmul(model.lmHead(), last, wanted, all);
    }
    logits = new float[chunks.size()][];
    w = 0;
    for (int i = 0; i < chunks.size(); i++) {
      SequenceChunk c = chunks.get(i);
      c.cache().commit(c.cache().length() + c.tokens().length);
      if (c.wantsLogits()) {
        logits[i] = java.util.Arrays.copyOfRange(all, w * vocab, (w + 1) * vocab);
        w++;
      }
    }
  }

  public boolean isComplete() {
    return logits != null;
  }

  /** The logits (V) of chunk {@code i}'s last token; the pass must be complete. */
  public float[] logits(int i) {
    if (logits == null) {
      throw new IllegalStateException("The forward pass is not complete");
    }
    return logits[i];
  }

  /** The residual stream (rows, D) at the current layer boundary; for tracing and tests. */
  float[] hidden() {
    return hidden;
  }

  private static void addInPlace(float[] acc, float[] add) {
    for (int i = 0; i < acc.length; i++) {
      acc[i] += add[i];
    }
  }
}
