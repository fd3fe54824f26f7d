package io.moeflink.engine.tokenizer;

import io.moeflink.engine.tokenizer.AddedTokens.Segment;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * Text to token ids and back by one tokenizer definition, in Hugging Face's order: added tokens
 * matched in the raw text; the normalizer, then the added tokens marked {@code normalized}; the
 * pre-tokenizer's words; BPE per word. Decoding maps each id to its token text and the byte-level
 * alphabet back to bytes, then reads UTF-8 (an invalid sequence becomes U+FFFD).
 *
 * <p>Immutable apart from the BPE word cache, so one instance serves several threads.
 */
final class BpeTokenizer {

  private final AddedTokens added;
  private final Normalizer normalizer;
  private final PreTokenizer preTokenizer;
  private final BytePairEncoding model;
  /** Cuts the text before anything else (tiktoken's long-run split), or returns it whole. */
  private final Function<String, List<String>> chunker;
  /** Whether token texts are in the byte-level alphabet (else decoding joins them with spaces). */
  private final boolean byteLevelDecoder;
  /** Token text of each id; null where the id is unused. */
  private final String[] tokenOf;
  /** Whether each id is a special token (left out by {@code skip_special_tokens}). */
  private final boolean[] special;
  /** Whether each id decodes as its plain UTF-8 text, not through the byte-level alphabet. */
  private final boolean[] literal;
  /** Whether each id is an added token (matched in the text, not a piece of the vocabulary). */
  private final boolean[] addedToken;
  private final Map<String, Integer> vocab;

  /**
   * @param addedTokensAreLiteral whether added tokens decode as their plain text (tiktoken) rather
   *     than through the decoder (Hugging Face)
   */
  BpeTokenizer(
      Map<String, Integer> vocab,
      BytePairEncoding model,
      AddedTokens added,
      Normalizer normalizer,
      PreTokenizer preTokenizer,
      boolean byteLevelDecoder,
      boolean addedTokensAreLiteral,
      Function<String, List<String>> chunker) {
    this.vocab = vocab;
    this.model = model;
    this.added = added;
    this.normalizer = normalizer;
    this.preTokenizer = preTokenizer;
    this.byteLevelDecoder = byteLevelDecoder;
    this.chunker = chunker;
    int size = 0;
    for (int id : vocab.values()) {
      size = Math.max(size, id + 1);
    }
    for (AddedTokens.Token token : added.tokens()) {
      size = Math.max(size, token.id() + 1);
    }
    tokenOf = new String[size];
    special = new boolean[size];
    literal = new boolean[size];
    addedToken = new boolean[size];
    vocab.forEach((token, id) -> tokenOf[id] = token);
    for (AddedTokens.Token token : added.tokens()) {
      tokenOf[token.id()] = token.content();
      special[token.id()] = token.special();
      literal[token.id()] = addedTokensAreLiteral;
      addedToken[token.id()] = true;
    }
  }

  /** The ids of {@code text}; nothing is added. */
  int[] encode(String text) {
    IntList ids = new IntList(text.length() / 3 + 4);
    List<Segment> rawSegments = new ArrayList<>();
    List<Segment> segments = new ArrayList<>();
    List<String> words = new ArrayList<>();
    for (String chunk : chunker.apply(text)) {
      rawSegments.clear();
      added.splitRaw(chunk, rawSegments);
      for (Segment raw : rawSegments) {
        if (raw.isToken()) {
          ids.add(raw.id());
          continue;
        }
        segments.clear();
        added.splitNormalized(normalizer.apply(raw.text()), segments);
        for (Segment segment : segments) {
          if (segment.isToken()) {
            ids.add(segment.id());
          } else if (!segment.text().isEmpty()) {
            words.clear();
            preTokenizer.split(segment.text(), words);
            for (String word : words) {
              model.encode(word, ids);
            }
          }
        }
      }
    }
    return ids.toArray();
  }

  /**
   * The text of {@code ids}, each within {@link #size()}; ids without a token are left out, as
   * Hugging Face does.
   */
  String decode(int[] ids, boolean skipSpecialTokens) {
    if (!byteLevelDecoder) {
      List<String> tokens = new ArrayList<>(ids.length);
      for (int id : ids) {
        if (tokenOf[id] != null && !(skipSpecialTokens && special[id])) {
          tokens.add(tokenOf[id]);
        }
      }
      return String.join(" ", tokens);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
    for (int id : ids) {
      String token = tokenOf[id];
      if (token == null || (skipSpecialTokens && special[id])) {
        continue;
      }
      if (literal[id]) {
        bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
      } else {
        ByteLevelAlphabet.decode(token, bytes);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /**
   * The bytes a regular vocabulary token decodes to on its own, or null for an added token, an
   * unused id, or a decoder that joins tokens with spaces (there a token's bytes depend on its
   * neighbours).
   */
  byte[] bytesOf(int id) {
    if (!byteLevelDecoder || id < 0 || id >= tokenOf.length || tokenOf[id] == null || addedToken[id]) {
      return null;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(tokenOf[id].length());
    if (literal[id]) {
      bytes.writeBytes(tokenOf[id].getBytes(StandardCharsets.UTF_8));
    } else {
      ByteLevelAlphabet.decode(tokenOf[id], bytes);
    }
    return bytes.toByteArray();
  }

  /** One more than the largest id. */
  int size() {
    return tokenOf.length;
  }

  /** The id of a token's text: an added token's, else the vocabulary's. */
  OptionalInt idOf(String token) {
    for (AddedTokens.Token t : added.tokens()) {
      if (t.content().equals(token)) {
        return OptionalInt.of(t.id());
      }
    }
    Integer id = vocab.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }
}
