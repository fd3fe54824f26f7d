package io.moeflink.engine.model;

/**
 * A run of one sequence's tokens that a {@link ForwardPass} feeds: a prefill chunk, a single
 * decode token, or a decode token and a draft token to verify. The chunk starts where the
 * sequence's cache ends.
 *
 * @param cache the sequence's latent cache; positions {@code [cache.length(), + tokens.length)}
 * @param tokens token ids to feed
 * @param logitRows how many of the last tokens want logits: 1 for a final prefill chunk or a
 *     decode token, 2 for a decode token and its draft, 0 for a non-final prefill chunk
 */
public record SequenceChunk(LatentKvCache cache, int[] tokens, int logitRows) {

  public SequenceChunk {
    if (tokens.length == 0) {
      throw new IllegalArgumentException("A chunk needs at least one token");
    }
    if (logitRows < 0 || logitRows > tokens.length) {
      throw new IllegalArgumentException("A chunk of " + tokens.length + " tokens cannot want logits of " + logitRows);
    }
  }

  /** A chunk that wants the last token's logits, or none. */
  public SequenceChunk(LatentKvCache cache, int[] tokens, boolean wantsLogits) {
    this(cache, tokens, wantsLogits ? 1 : 0);
  }

  /** Whether any logits are wanted (the last token's at least). */
  public boolean wantsLogits() {
    return logitRows > 0;
  }
}
