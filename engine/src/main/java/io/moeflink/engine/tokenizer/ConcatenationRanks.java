package io.moeflink.engine.tokenizer;

import java.util.Map;

/**
 * tiktoken's merge rule: two adjacent parts merge if their concatenation is a token, and the pair
 * whose token has the lowest rank merges first (the rank is the token's id). Tokens are compared
 * in their byte-level alphabet form, so concatenating the strings concatenates the bytes.
 */
final class ConcatenationRanks implements MergeRules {

  private final Map<String, Integer> vocab;
  private final String[] tokenOf;

  ConcatenationRanks(Map<String, Integer> vocab, String[] tokenOf) {
    this.vocab = vocab;
    this.tokenOf = tokenOf;
  }

  @Override
  public long merge(int left, int right) {
    Integer merged = vocab.get(tokenOf[left].concat(tokenOf[right]));
    return merged == null ? NO_MERGE : MergeRules.of(merged, merged);
  }
}
