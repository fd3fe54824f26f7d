package io.moeflink.engine.model;

/**
 * A run of one sequence's tokens that a {@link ForwardPass} feeds: a prefill chunk or a single
 * decode token. The chunk starts where the sequence's cache ends.
 *
 * @param cache the sequence's latent cache; positions {@code [cache.length(), + tokens.length)}
 * @param tokens token ids to feed
 * @param wantsLogits whether the last token's logits are needed (false for a non-final prefill
 *     chunk)
 */
public record SequenceChunk(LatentKvCache cache, int[] tokens, boolean wantsLogits) {

  public SequenceChunk {
    if (tokens.length == 0) {
      throw new IllegalArgumentException("A chunk needs at least one token");
    }
  }
}
