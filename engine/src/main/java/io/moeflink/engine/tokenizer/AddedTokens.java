package io.moeflink.engine.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The tokens matched in the text before it is split into words: {@code added_tokens} of {@code
 * tokenizer.json} (DeepSeek-V3's {@code <｜User｜>}, BOS, EOS...) or tiktoken's special tokens. As
 * Hugging Face does it, the leftmost match wins and, of those starting there, the longest; a match
 * is never looked for inside another. Tokens marked {@code normalized} are looked for in the
 * normalized text, the others in the raw text first.
 */
final class AddedTokens {

  /**
   * One added token.
   *
   * @param id its id
   * @param content the text it matches
   * @param special whether decoding with {@code skip_special_tokens} leaves it out
   * @param normalized whether it is matched after normalization
   * @param singleWord whether it only matches where no word character touches it
   * @param lstrip whether it takes the white space on its left with it
   * @param rstrip whether it takes the white space on its right with it
   */
  record Token(
      int id,
      String content,
      boolean special,
      boolean normalized,
      boolean singleWord,
      boolean lstrip,
      boolean rstrip) {

    static Token special(int id, String content) {
      return new Token(id, content, true, false, false, false, false);
    }
  }

  /** A stretch of text, or a matched token ({@code id >= 0}, {@code text} null). */
  record Segment(String text, int id) {
    static Segment text(String text) {
      return new Segment(text, -1);
    }

    boolean isToken() {
      return id >= 0;
    }
  }

  private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

  private final List<Token> tokens;
  private final Trie raw = new Trie();
  private final Trie normalized = new Trie();

  /** @param normalizer the normalizer applied to the content of {@code normalized} tokens */
  AddedTokens(List<Token> tokens, Normalizer normalizer) {
    this.tokens = List.copyOf(tokens);
    for (Token token : tokens) {
      if (token.content().isEmpty()) {
        continue;
      }
      if (token.normalized()) {
        normalized.add(normalizer.apply(token.content()), token);
      } else {
        raw.add(token.content(), token);
      }
    }
  }

  List<Token> tokens() {
    return tokens;
  }

  /** Cuts {@code text} at the tokens not marked {@code normalized}. */
  void splitRaw(String text, List<Segment> out) {
    split(text, raw, out);
  }

  /** Cuts normalized {@code text} at the tokens marked {@code normalized}. */
  void splitNormalized(String text, List<Segment> out) {
    split(text, normalized, out);
  }

  private static void split(String text, Trie trie, List<Segment> out) {
    if (trie.isEmpty()) {
      out.add(Segment.text(text));
      return;
    }
    int done = 0; // end of the last match taken
    int at = 0;
    while (at < text.length()) {
      Trie.Match match = trie.longestAt(text, at);
      if (match == null) {
        at++;
        continue;
      }
      int start = at;
      int stop = match.end();
      Token token = match.token();
      at = stop; // a match consumes its text even when it is discarded
      if (token.singleWord()
          && ((start > 0 && isWordChar(text.codePointBefore(start)))
              || (stop < text.length() && isWordChar(text.codePointAt(stop))))) {
        continue;
      }
      if (token.lstrip()) {
        int s = start;
        while (s > 0 && WhiteSpace.is(text.codePointBefore(s))) {
          s -= Character.charCount(text.codePointBefore(s));
        }
        start = Math.max(s, done);
      }
      if (token.rstrip()) {
        while (stop < text.length() && WhiteSpace.is(text.codePointAt(stop))) {
          stop += Character.charCount(text.codePointAt(stop));
        }
        at = stop;
      }
      if (done < start) {
        out.add(Segment.text(text.substring(done, start)));
      }
      out.add(new Segment(null, token.id()));
      done = stop;
    }
    if (done < text.length()) {
      out.add(Segment.text(text.substring(done)));
    }
  }

  private static boolean isWordChar(int codePoint) {
    return WORD_CHAR.matcher(new String(Character.toChars(codePoint))).matches();
  }

  /** A character trie of token contents. */
  private static final class Trie {
    private final Node root = new Node();

    record Match(int end, Token token) {}

    private static final class Node {
      final Map<Character, Node> children = new HashMap<>(4);
      Token token;
    }

    boolean isEmpty() {
      return root.children.isEmpty();
    }

    void add(String content, Token token) {
      Node node = root;
      for (int i = 0; i < content.length(); i++) {
        node = node.children.computeIfAbsent(content.charAt(i), c -> new Node());
      }
      if (node.token == null) { // the first of two tokens with the same content wins
        node.token = token;
      }
    }

    /** The longest token starting at {@code start}, or null. */
    Match longestAt(String text, int start) {
      Node node = root;
      Match longest = null;
      for (int i = start; i < text.length(); i++) {
        node = node.children.get(text.charAt(i));
        if (node == null) {
          break;
        }
        if (node.token != null) {
          longest = new Match(i + 1, node.token);
        }
      }
      return longest;
    }
  }
}
