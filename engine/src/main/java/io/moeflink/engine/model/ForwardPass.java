package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.CacheRows;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertResult;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.ArrayList;
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
 * <p>A pass of the main model feeds tokens at the end of each sequence's cache and commits them;
 * with the MTP module loaded it also keeps every row's final normed hidden state ({@link
 * #hidden(int)}). A {@linkplain #draft draft pass} runs the MTP module alone (one MoE layer, index
 * {@code num_hidden_layers}) over positions the main model has already fed, and returns the draft
 * logits of each chunk's last position.
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
  private final MtpModule draft; // non-null for a draft pass
  private final int[] chunkEnds; // (chunks) exclusive end row of each chunk
  private final int[] positions; // (rows)
  private final LatentKvCache[] caches; // (rows)
  private final PassBuffers buffers;
  private final int endLayer;
  private int layer;
  private MixtureOfExperts.RoutedLayer routed; // the MoE layer in flight, or null
  private float[][] logits; // (chunks)(logitRows * V), null for chunks that want none
  private float[][] hidden; // (chunks)(rows * D) final normed states, main passes with the MTP module only

  /** A pass of the main model over {@code chunks}. */
  public ForwardPass(Model model, ExpertPlacement placement, List<SequenceChunk> chunks) {
    this(model, placement, chunks, null, null);
  }

  /**
   * A draft pass of the model's MTP module over positions its main passes have fed: each chunk's
   * draft logits (if wanted) predict the token two positions after its last one.
   */
  public static ForwardPass draft(Model model, ExpertPlacement placement, List<DraftChunk> drafts) {
    if (!model.hasMtp()) {
      throw new IllegalStateException("The model was loaded without its MTP module");
    }
    List<SequenceChunk> chunks = new ArrayList<>();
    int[] starts = new int[drafts.size()];
    for (int i = 0; i < drafts.size(); i++) {
      DraftChunk c = drafts.get(i);
      chunks.add(new SequenceChunk(c.cache(), c.nextTokens(), c.wantsLogits()));
      starts[i] = c.start();
    }
    return new ForwardPass(model, placement, chunks, starts, drafts);
  }

  private ForwardPass(Model model, ExpertPlacement placement, List<SequenceChunk> chunks, int[] starts,
      List<DraftChunk> drafts) {
    this.model = model;
    this.config = model.config();
    this.kernels = model.kernels();
    this.placement = placement;
    this.chunks = List.copyOf(chunks);
    this.draft = drafts == null ? null : model.mtp();
    if (chunks.isEmpty()) {
      throw new IllegalArgumentException("A forward pass needs at least one chunk");
    }
    Map<LatentKvCache, Boolean> seen = new IdentityHashMap<>();
    int n = 0;
    this.chunkEnds = new int[chunks.size()];
    for (int i = 0; i < chunks.size(); i++) {
      SequenceChunk c = chunks.get(i);
      if (seen.put(c.cache(), Boolean.TRUE) != null) {
        throw new IllegalArgumentException("A sequence may appear only once in a forward pass");
      }
      n += c.tokens().length;
      chunkEnds[i] = n;
    }
    int d = config.hiddenSize();
    int dr = config.qkRopeHeadDim();
    this.positions = new int[n];
    this.caches = new LatentKvCache[n];
    float[] embeddings = new float[n * d]; // (n, D)
    float[] angles = new float[n * dr]; // (n, dr)
    int row = 0;
    for (int ci = 0; ci < chunks.size(); ci++) {
      SequenceChunk c = chunks.get(ci);
      int start = starts == null ? c.cache().length() : starts[ci];
      c.cache().ensureCapacity(start + c.tokens().length);
      for (int i = 0; i < c.tokens().length; i++, row++) {
        positions[row] = start + i;
        caches[row] = c.cache();
        model.rope().angles(start + i, angles, row * dr);
        model.embed(c.tokens()[i], embeddings, row * d);
      }
    }
    int intermediate = model.largestDenseIntermediate();
    if (draft == null) {
      this.buffers = new PassBuffers(config, kernels, n, intermediate, embeddings, angles);
      this.layer = 0;
      this.endLayer = config.numHiddenLayers();
    } else {
      float[] states = new float[n * d];
      for (int i = 0, at = 0; i < drafts.size(); i++) {
        float[] h = drafts.get(i).hidden();
        if (h.length != drafts.get(i).nextTokens().length * d) {
          throw new IllegalArgumentException("Draft chunk " + i + " has " + h.length + " hidden floats for "
              + drafts.get(i).nextTokens().length + " positions of width " + d);
        }
        System.arraycopy(h, 0, states, at, h.length);
        at += h.length;
      }
      Activations x = kernels.allocate(n * d);
      try (Activations embedded = kernels.upload(embeddings); Activations normedStates = kernels.upload(states)) {
        draft.input(kernels, embedded, normedStates, n, x);
      }
      this.buffers = new PassBuffers(config, kernels, n, intermediate, x, angles);
      this.layer = draft.layer();
      this.endLayer = draft.layer() + 1;
    }
  }

  /** Token rows in this pass (prefill and decode tokens together). */
  public int tokens() {
    return positions.length;
  }

  public List<SequenceChunk> chunks() {
    return chunks;
  }

  /** Whether this is a draft pass of the MTP module. */
  public boolean isDraft() {
    return draft != null;
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
    while (layer < endLayer) {
      TransformerBlock block = block(layer);
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

  private TransformerBlock block(int layer) {
    return draft != null ? draft.block() : model.block(layer);
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
    return (MixtureOfExperts) block(layer).feedForward();
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
  public Routing routingInFlight() {
    return routed == null ? null : routed.routing;
  }

  /** Whether the layer in flight still waits for results. */
  public boolean awaitingResults() {
    return routed != null;
  }

  /**
   * The final norm (the MTP module's head norm in a draft pass) and the LM head on the rows that
   * want logits; a main pass commits the caches and, with the MTP module, keeps every row's normed
   * state. Every row is normed on its own, so the logits do not depend on which rows are kept.
   */
  private void finish() {
    int d = config.hiddenSize();
    int vocab = config.vocabSize();
    List<Integer> rows = new ArrayList<>();
    for (int i = 0; i < chunks.size(); i++) {
      for (int r = chunkEnds[i] - chunks.get(i).logitRows(); r < chunkEnds[i]; r++) {
        rows.add(r);
      }
    }
    RmsNorm norm = draft != null ? draft.headNorm() : model.finalNorm();
    boolean keepHidden = draft == null && model.hasMtp();
    int n = tokens();
    try (Activations normed = kernels.allocate((keepHidden ? n : rows.size()) * d)) {
      if (keepHidden) {
        norm.apply(kernels, buffers.hidden, n, normed);
        hidden = split(kernels.toHost(normed, n * d), d);
      }
      if (rows.isEmpty()) {
        logits = new float[chunks.size()][];
      } else {
        try (Activations last = kernels.allocate(rows.size() * d); Activations out = kernels.allocate(rows.size() * vocab)) {
          int[] wanted = rows.stream().mapToInt(Integer::intValue).toArray();
          if (keepHidden) {
            kernels.gatherRows(normed, wanted, d, last); // (wanted, D)
          } else {
            kernels.gatherRows(buffers.hidden, wanted, d, last);
            norm.apply(kernels, last, wanted.length, last);
          }
          kernels.matmul(model.lmHead(), last, wanted.length, out); // (wanted, V)
          logits = splitLogits(kernels.toHost(out, wanted.length * vocab), vocab);
        }
      }
    }
    if (draft == null) {
      for (SequenceChunk c : chunks) {
        c.cache().commit(c.cache().length() + c.tokens().length);
      }
    }
    buffers.close();
  }

  /** Per chunk, its rows of {@code all} (rows, width). */
  private float[][] split(float[] all, int width) {
    float[][] out = new float[chunks.size()][];
    for (int i = 0; i < chunks.size(); i++) {
      int begin = i == 0 ? 0 : chunkEnds[i - 1];
      out[i] = Arrays.copyOfRange(all, begin * width, chunkEnds[i] * width);
    }
    return out;
  }

  /** Per chunk, its logit rows of {@code all} (wanted rows, V); null for a chunk that wants none. */
  private float[][] splitLogits(float[] all, int vocab) {
    float[][] out = new float[chunks.size()][];
    int w = 0;
    for (int i = 0; i < chunks.size(); i++) {
      int count = chunks.get(i).logitRows();
      if (count > 0) {
        out[i] = Arrays.copyOfRange(all, w * vocab, (w + count) * vocab);
        w += count;
      }
    }
    return out;
  }

  public boolean isComplete() {
    return logits != null;
  }

  /** The logits (V) of chunk {@code i}'s last token; the pass must be complete. */
  public float[] logits(int i) {
    float[] all = completeLogits(i);
    if (all == null) {
      return null;
    }
    int vocab = config.vocabSize();
    return all.length == vocab ? all : Arrays.copyOfRange(all, all.length - vocab, all.length);
  }

  /**
   * The logits (V) of chunk {@code i}'s logit row {@code r}, counting from the first of its {@code
   * logitRows} last tokens.
   */
  public float[] logits(int i, int r) {
    float[] all = completeLogits(i);
    int vocab = config.vocabSize();
    if (all == null || r < 0 || (r + 1) * vocab > all.length) {
      throw new IllegalArgumentException("Chunk " + i + " has no logit row " + r);
    }
    return Arrays.copyOfRange(all, r * vocab, (r + 1) * vocab);
  }

  private float[] completeLogits(int i) {
    if (logits == null) {
      throw new IllegalStateException("The forward pass is not complete");
    }
    return logits[i];
  }

  /**
   * Chunk {@code i}'s final normed hidden states (rows, D), what the MTP module drafts from; only
   * in a complete main pass of a model with the MTP module loaded.
   */
  public float[] hidden(int i) {
    if (hidden == null) {
      throw new IllegalStateException(draft != null || !model.hasMtp()
          ? "Only a main pass of a model with its MTP module keeps hidden states" : "The forward pass is not complete");
    }
    return hidden[i];
  }
}
