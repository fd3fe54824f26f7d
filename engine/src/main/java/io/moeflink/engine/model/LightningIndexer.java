package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.config.SparseIndexer;
import io.moeflink.engine.kernel.WeightMatrix;

/**
 * DeepSeek-V3.2-Exp's lightning indexer of one layer (DeepSeek Sparse Attention): from the query
 * latent and the hidden state it scores every cached position, and attention keeps the {@code
 * index_topk} best. With at most {@code index_topk} positions the selection keeps them all and
 * attention is exactly dense MLA, which is the only case this engine serves ({@link
 * ModelConfig#exactContext()} refuses longer requests); the weights are loaded and checked so that
 * a V3.2-Exp checkpoint opens as itself.
 */
final class LightningIndexer {
  private final WeightMatrix queryUp; // (index_n_heads * index_head_dim, qLoraRank): wq_b
  private final WeightMatrix key; // (index_head_dim, D): wk
  private final float[] keyNormWeight; // (index_head_dim): k_norm, a LayerNorm
  private final float[] keyNormBias; // (index_head_dim)
  private final WeightMatrix headWeights; // (index_n_heads, D): weights_proj

  private LightningIndexer(
      WeightMatrix queryUp, WeightMatrix key, float[] keyNormWeight, float[] keyNormBias, WeightMatrix headWeights) {
    this.queryUp = queryUp;
    this.key = key;
    this.keyNormWeight = keyNormWeight;
    this.keyNormBias = keyNormBias;
    this.headWeights = headWeights;
  }

  static LightningIndexer load(Checkpoint ck, ModelConfig c, int layer) {
    SparseIndexer s = c.indexer();
    return new LightningIndexer(
        WeightMatrix.load(ck, TensorNames.indexer(layer, "wq_b.weight"), s.heads() * s.headDim(), c.qLoraRank()),
        WeightMatrix.load(ck, TensorNames.indexer(layer, "wk.weight"), s.headDim(), c.hiddenSize()),
        ck.tensor(TensorNames.indexer(layer, "k_norm.weight"), s.headDim()).toFloatArray(),
        ck.tensor(TensorNames.indexer(layer, "k_norm.bias"), s.headDim()).toFloatArray(),
        WeightMatrix.load(ck, TensorNames.indexer(layer, "weights_proj.weight"), s.heads(), c.hiddenSize()));
  }

  /** Bytes of the indexer's matrices (read per step only by sparse attention, which is not run). */
  long bytes() {
    return queryUp.bytes() + key.bytes() + headWeights.bytes()
        + (long) Float.BYTES * (keyNormWeight.length + keyNormBias.length);
  }
}
