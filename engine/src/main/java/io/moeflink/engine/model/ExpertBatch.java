package io.moeflink.engine.model;

/**
 * The tokens of one MoE layer that one shard must compute: each token once, with the ids of its
 * experts that this shard holds.
 *
 * @param layer the MoE layer
 * @param tokens number of token rows
 * @param hidden (tokens, D) post-attention-normalised hidden states
 * @param expertOffsets (tokens + 1) token {@code i}'s experts are {@code expertIds[off[i] ..
 *     off[i+1])}
 * @param expertIds ascending within a token
 */
public record ExpertBatch(int layer, int tokens, float[] hidden, int[] expertOffsets, int[] expertIds) {

  /** Number of (token, expert) pairs: the rows of the result. */
  public int pairs() {
    return expertIds.length;
  }
}
