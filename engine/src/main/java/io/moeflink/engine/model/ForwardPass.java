package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.CacheRows;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertResult;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One step of the model over a micro-batch of sequence chunks (prefill chunks and decode tokens
 * mixed), resumable at every MoE layer: {@link #advance()} runs the blocks up to the next MoE
 * layer and returns its dispatch, grouped by destination shard; {@link #accept} takes each shard's
 * raw expert outputs; once all have arrived the layer combines them and the next {@code advance()}
 * continues. When {@code advance()} returns {@code null} the pass is complete and {@link
 * #logits(int)} is available. A caller whose shards compute elsewhere calls {@link
 * #runSharedExperts()} while it waits.
 *
 * <p>The transport is not this class's business: {@link io.moeflink.engine.generate.LocalExchange}
 * calls in-process shards, the Flink operators send the batches over the network. Both compute
 * exactly the same numbers.
 *
 * <p>Not thread-safe: one pass is driven by one thread.
 */
public final class ForwardPass {
  private final Model model;
  private final ModelConfig config;
  private final KernelBackend kernels;
  private final ExpertPlacement placement;
  private final List<SequenceChunk> chunks;
  private final int[] positions; // (rows)
  private final LatentKvCache[] caches; // (rows)
  private final PassBuffers buffers;
  private int layer;
  private MixtureOfExperts.RoutedLayer routed; // the MoE layer in flight, or null
  private float[][] logits; // (chunks)(V), null for chunks that want none

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
    int d = config.hiddenSize();
    int dr = config.qkRopeHeadDim();
    this.positions = new int[n];
    this.caches = new LatentKvCache[n];
    float[] embeddings = new float[n * d]; // (n, D)
    float[] angles = new float[n * dr]; // (n, dr)
    int row = 0;
    for (SequenceChunk c : chunks) {
      int start = c.cache().length();
      c.cache().ensureCapacity(start + c.tokens().length);
      for (int i = 0; i < c.tokens().length; i++, row++) {
        positions[row] = start + i;
        caches[row] = c.cache();
        model.rope().angles(start + i, angles, row * dr);
        model.embed(c.tokens()[i], embeddings, row * d);
      }
    }
    this.buffers = new PassBuffers(config, kernels, n, model.largestDenseIntermediate(), embeddings, angles);
  }

  /** Token rows in this pass (prefill and decode tokens together). */
  public int tokens() {
    return positions.length;
  }

  public List<SequenceChunk> chunks() {
    return chunks;
  }

  /**
   * Runs until the next MoE layer and returns what it needs from the expert shards, or {@code
   * null} when the pass is complete.
   */
  public MoeDispatch advance() {
    if (routed != null) {
      throw new IllegalStateException(
          "Layer " + layer + " still waits for " + routed.missing + " shard result(s); accept them before advancing");
    }
    if (logits != null) {
      return null;
    }
    while (layer < config.numHiddenLayers()) {
      TransformerBlock block = model.block(layer);
      block.attend(kernels, buffers, cacheRows(layer));
      if (block.feedForward() instanceof Mlp mlp) {
        mlp.forward(kernels, buffers.normed, tokens(), buffers.ffnOut, buffers.ffnGate, buffers.ffnUp);
        kernels.add(buffers.hidden, buffers.ffnOut, tokens() * config.hiddenSize());
        layer++;
        continue;
      }
      routed = moe(layer).dispatch(kernels, buffers, placement);
      if (routed.missing == 0) {
        throw new IllegalStateException("Layer " + layer + " routed no token to any shard");
      }
      return routed.dispatch();
    }
    finish();
    return null;
  }

  /** Each row's cache buffers of {@code layer} and its position. */
  private CacheRows cacheRows(int layer) {
    Activations[] latents = new Activations[caches.length];
    Activations[] ropeKeys = new Activations[caches.length];
    for (int i = 0; i < caches.length; i++) {
      latents[i] = caches[i].latent(layer);
      ropeKeys[i] = caches[i].ropeKeys(layer);
    }
    return new CacheRows(latents, ropeKeys, positions);
  }

  private MixtureOfExperts moe(int layer) {
    return (MixtureOfExperts) model.block(layer).feedForward();
  }

  /**
   * Runs the shared experts of the MoE layer in flight, if it has any and they have not run yet. A
   * caller that sends the dispatch to remote shards calls this while they compute, so the shared
   * experts overlap the routed ones; otherwise the layer runs them when its last result arrives.
   * Either way the sum is the same, bit for bit.
   */
  public void runSharedExperts() {
    if (routed == null) {
      throw new IllegalStateException("No MoE layer is in flight");
    }
    moe(layer).runSharedExperts(kernels, buffers, routed);
  }

  /** Stores shard {@code shard}'s result; when the last one arrives, combines the layer. */
  public void accept(int shard, ExpertResult result) {
    if (routed == null) {
      throw new IllegalStateException("No MoE layer is waiting for results (got one for layer " + result.layer() + ")");
    }
    if (routed.accept(shard, result)) {
      moe(layer).combine(kernels, buffers, routed);
      routed = null;
      layer++;
    }
  }

  /** The routing of the MoE layer in flight (tests and metrics); null between layers. */
  Routing routingInFlight() {
    return routed == null ? null : routed.routing;
  }

  /** Whether the layer in flight still waits for results. */
  public boolean awaitingResults() {
    return routed != null;
  }

  /** Final norm and LM head on each chunk's last row that wants logits; commits the caches. */
  private void finish() {
    int d = config.hiddenSize();
    int vocab = config.vocabSize();
    int[] lastRows = new int[chunks.size()];
    int wanted = 0;
    int row = 0;
    for (SequenceChunk c : chunks) {
      row += c.tokens().length;
      if (c.wantsLogits()) {
        lastRows[wanted++] = row - 1;
      }
    }
    if (wanted > 0) {
      try (Activations last = kernels.allocate(wanted * d); Activations out = kernels.allocate(wanted * vocab)) {
        kernels.gatherRows(buffers.hidden, Arrays.copyOf(lastRows, wanted), d, last); // (wanted, D)
        model.finalNorm().apply(kernels, last, wanted, last);
        kernels.matmul(model.lmHead(), last, wanted, out); // (wanted, V)
        logits = split(kernels.toHost(out, wanted * vocab), vocab);
      }
    } else {
      logits = new float[chunks.size()][];
    }
    for (SequenceChunk c : chunks) {
      c.cache().commit(c.cache().length() + c.tokens().length);
    }
    buffers.close();
  }

  private float[][] split(float[] all, int vocab) {
    float[][] out = new float[chunks.size()][];
    int w = 0;
    for (int i = 0; i < chunks.size(); i++) {
      if (chunks.get(i).wantsLogits()) {
        out[i] = Arrays.copyOfRange(all, w * vocab, (w + 1) * vocab);
        w++;
      }
    }
    return out;
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
}
