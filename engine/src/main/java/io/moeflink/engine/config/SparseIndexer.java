package io.moeflink.engine.config;

/**
 * DeepSeek-V3.2-Exp's lightning indexer (DeepSeek Sparse Attention): per layer it scores the cached
 * positions and attention keeps only the {@code index_topk} best. While a sequence holds at most
 * {@code index_topk} positions every position is kept, so attention is exactly dense MLA.
 *
 * @param heads {@code index_n_heads}
 * @param headDim {@code index_head_dim}
 * @param topk {@code index_topk}: positions attention keeps per query
 */
public record SparseIndexer(int heads, int headDim, int topk) {
  public SparseIndexer {
    if (heads <= 0 || headDim <= 0 || topk <= 0) {
      throw new ModelConfigException("index_n_heads, index_head_dim and index_topk are " + heads + ", " + headDim
          + ", " + topk + ": expected positive numbers");
    }
  }
}
