package io.moeflink.engine.moe;

/**
 * The tokens of one MoE layer that one shard must compute, already grouped the way the shard
 * computes them: each token's hidden row once, and per expert (ascending id) the rows it takes.
 *
 * <p>Pair {@code p} (one token through one expert) belongs to expert {@code experts[i]} for
 * {@code expertStarts[i] <= p < expertStarts[i + 1]} and reads hidden row {@code pairTokens[p]};
 * within an expert the rows ascend. The shard's {@link ExpertResult} has one output row per pair,
 * in this order.
 *
 * @param layer the MoE layer
 * @param tokens number of hidden rows
 * @param hidden (tokens, D) post-attention-normalised hidden states
 * @param experts (m) the distinct experts this batch needs, ascending
 * @param expertStarts (m + 1) each expert's first pair, then the pair count
 * @param pairTokens (pairs) the hidden row of each pair
 */
public record ExpertBatch(
    int layer, int tokens, float[] hidden, int[] experts, int[] expertStarts, int[] pairTokens) {

  public ExpertBatch {
    if (expertStarts.length != experts.length + 1 || expertStarts[experts.length] != pairTokens.length) {
      throw new IllegalArgumentException(
          "Expert batch of layer " + layer + ": " + experts.length + " experts need " + (experts.length + 1)
              + " starts ending at the " + pairTokens.length + " pairs");
    }
  }

  /** Number of (token, expert) pairs: the rows of the result. */
  public int pairs() {
    return pairTokens.length;
  }
}
