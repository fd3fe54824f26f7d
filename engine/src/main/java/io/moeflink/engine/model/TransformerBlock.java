package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.CacheRows;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * One transformer block, as DeepSeek's {@code Block}: {@code x = x + attn(attn_norm(x))}, then
 * {@code x = x + ffn(ffn_norm(x))}, where the feed-forward is an {@link Mlp} in the first {@code
 * first_k_dense_replace} layers and a {@link MixtureOfExperts} after.
 */
final class TransformerBlock {
  private final RmsNorm attentionNorm; // (D)
  private final MultiHeadLatentAttention attention;
  private final RmsNorm ffnNorm; // (D)
  private final FeedForward feedForward;
  private final LightningIndexer indexer; // DeepSeek-V3.2-Exp only: loaded, not run (dense up to index_topk)

  private TransformerBlock(
      RmsNorm attentionNorm, MultiHeadLatentAttention attention, RmsNorm ffnNorm, FeedForward feedForward,
      LightningIndexer indexer) {
    this.indexer = indexer;
    this.attentionNorm = attentionNorm;
    this.attention = attention;
    this.ffnNorm = ffnNorm;
    this.feedForward = feedForward;
  }

  static TransformerBlock load(Checkpoint ck, ModelConfig c, int layer) {
    String p = TensorNames.layer(layer);
    RmsNorm attnNorm = RmsNorm.load(ck, p + "input_layernorm.weight", c.hiddenSize(), c.rmsNormEps());
    RmsNorm ffnNorm = RmsNorm.load(ck, p + "post_attention_layernorm.weight", c.hiddenSize(), c.rmsNormEps());
    FeedForward ffn = c.isMoeLayer(layer)
        ? MixtureOfExperts.load(ck, c, layer)
        : Mlp.load(ck, p + "mlp.", c.hiddenSize(), c.intermediateSize());
    LightningIndexer indexer = c.indexer() != null ? LightningIndexer.load(ck, c, layer) : null;
    return new TransformerBlock(attnNorm, MultiHeadLatentAttention.load(ck, c, layer), ffnNorm, ffn, indexer);
  }

  /**
   * The block's first half and the feed-forward's input: {@code x = x + attn(attn_norm(x))}, then
   * {@code b.normed = ffn_norm(x)}.
   */
  void attend(KernelBackend k, PassBuffers b, CacheRows cache) {
    int n = b.rows();
    attentionNorm.apply(k, b.hidden, n, b.normed);
    attention.forward(k, b, cache);
    k.add(b.hidden, b.attnOut, n * attentionNorm.dim());
    ffnNorm.apply(k, b.hidden, n, b.normed);
  }

  FeedForward feedForward() {
    return feedForward;
  }

  /** Whether the block carries DeepSeek-V3.2-Exp's indexer. */
  boolean hasIndexer() {
    return indexer != null;
  }

  /** The weights a pass reads in this block, routed experts excluded (the indexer does not run). */
  List<WeightMatrix> weights() {
    List<WeightMatrix> weights = new ArrayList<>(attention.weights());
    weights.addAll(feedForward.weights());
    return weights;
  }

  /** Bytes of weights one decode step reads in this block, routed experts excluded. */
  long bytes() {
    return WeightMatrix.bytes(weights());
  }
}
