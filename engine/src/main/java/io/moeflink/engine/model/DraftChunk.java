package io.moeflink.engine.model;

/**
 * A run of one sequence's positions that a draft pass of the MTP module feeds: position {@code
 * start + i} combines the main model's normed hidden state there with the token that follows it.
 *
 * @param cache the sequence's latent cache (the MTP module's layer is written at the positions)
 * @param start the first position
 * @param nextTokens the token at position {@code p + 1} for each position {@code p}
 * @param hidden (nextTokens.length, D) the main model's final normed hidden states at the positions
 * @param wantsLogits whether the last position's draft logits are wanted
 */
public record DraftChunk(LatentKvCache cache, int start, int[] nextTokens, float[] hidden, boolean wantsLogits) {

  public DraftChunk {
    if (nextTokens.length == 0) {
      throw new IllegalArgumentException("A draft chunk needs at least one position");
    }
    if (start < 0) {
      throw new IllegalArgumentException("A draft chunk starts at position " + start);
    }
  }
}
