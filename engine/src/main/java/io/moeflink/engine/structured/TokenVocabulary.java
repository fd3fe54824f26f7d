package io.moeflink.engine.structured;

import io.moeflink.engine.tokenizer.Tokenizer;

/**
 * The bytes of every token that constrained decoding may choose: the tokenizer's regular
 * vocabulary. Added and special tokens (BOS, EOS, chat markers) are never part of a constrained
 * text; a request's stop tokens are let through separately once the value is complete.
 */
public final class TokenVocabulary {
  /** (tokens) each token's bytes; null where the token can never be chosen. */
  private final byte[][] bytes;

  TokenVocabulary(byte[][] bytes) {
    this.bytes = bytes;
  }

  /** The tokenizer's vocabulary. */
  public static TokenVocabulary of(Tokenizer tokenizer) {
    byte[][] bytes = new byte[tokenizer.vocabSize()][];
    for (int id = 0; id < bytes.length; id++) {
      byte[] b = tokenizer.tokenBytes(id);
      bytes[id] = b == null || b.length == 0 ? null : b;
    }
    return new TokenVocabulary(bytes);
  }

  /** One more than the largest token id. */
  int size() {
    return bytes.length;
  }

  /** Token {@code id}'s bytes, or null if it can never be chosen. */
  byte[] bytes(int id) {
    return id < bytes.length ? bytes[id] : null;
  }
}
