package io.moeflink.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a {@code tiktoken.model} vocabulary (one {@code base64-token rank} per line, the rank
 * being the id) as the Kimi K2 / Moonlight family ships it, with its split pattern and special
 * tokens, onto the same BPE code as {@code tokenizer.json}: tiktoken's rule (a word that is a
 * token is that token; otherwise the adjacent parts whose concatenation has the lowest rank merge
 * first) is BPE with {@code ignore_merges} and a merge for every pair whose concatenation is a
 * token.
 *
 * <p>As {@code tokenization_kimi.py} does it: the special tokens are the ids after the vocabulary,
 * {@value #RESERVED_SPECIAL_TOKENS} + 2 of them, named by {@code added_tokens_decoder} of {@code
 * tokenizer_config.json} or else {@code <|reserved_token_ID|>}; every special token in the text is
 * matched; the text is first cut so that no piece holds more than {@value #MAX_RUN} consecutive
 * white-space or non-white-space characters, in chunks of at most {@value #MAX_CHUNK}.
 */
final class TiktokenFile {

  /** The file name in a model directory. */
  static final String FILE_NAME = "tiktoken.model";

  /** Kimi's split pattern ({@code TikTokenTokenizer.pat_str} of {@code tokenization_kimi.py}). */
  static final String KIMI_PATTERN =
      String.join(
          "|",
          "[\\p{Han}]+",
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
          "\\p{N}{1,3}",
          " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*",
          "\\s*[\\r\\n]+",
          "\\s+(?!\\S)",
          "\\s+");

  /** {@code num_reserved_special_tokens} of {@code tokenization_kimi.py}. */
  static final int RESERVED_SPECIAL_TOKENS = 256;
  /** tiktoken is given at most this many characters at a time. */
  static final int MAX_CHUNK = 400_000;
  /** At most this many consecutive white-space or non-white-space characters per piece. */
  static final int MAX_RUN = 25_000;

  private TiktokenFile() {}

  /**
   * Kimi's tokenizer from a model directory: {@code tiktoken.model} and the special tokens of
   * {@code tokenizer_config.json} ({@code config} may be null when there is none).
   */
  static BpeTokenizer readKimi(Path file, JsonNode config) throws IOException {
    Map<String, Integer> vocab = ranks(file);
    int base = vocab.size();
    Map<Integer, AddedTokens.Token> named = addedTokensDecoder(config, file);
    TreeMap<Integer, AddedTokens.Token> specials = new TreeMap<>(named);
    for (int id = base; id < base + RESERVED_SPECIAL_TOKENS + 2; id++) {
      specials.putIfAbsent(id, AddedTokens.Token.special(id, "<|reserved_token_" + id + "|>"));
    }
    return read(vocab, SplitPattern.compile(KIMI_PATTERN), new ArrayList<>(specials.values()), TiktokenFile::cutLongRuns);
  }

  /** A tiktoken vocabulary with a split pattern and special tokens, without Kimi's pre-cut. */
  static BpeTokenizer read(Path file, Pattern split, List<AddedTokens.Token> specials) throws IOException {
    return read(ranks(file), split, specials, List::of);
  }

  private static BpeTokenizer read(
      Map<String, Integer> vocab,
      Pattern split,
      List<AddedTokens.Token> specials,
      java.util.function.Function<String, List<String>> chunker) {
    String[] tokenOf = new String[vocab.size()];
    vocab.forEach((token, id) -> tokenOf[id] = token);
    BytePairEncoding bpe =
        new BytePairEncoding(
            vocab, new ConcatenationRanks(vocab, tokenOf), true, false, OptionalInt.empty(), false);
    PreTokenizer words =
        new PreTokenizer.Sequence(
            List.of(
                new PreTokenizer.Split(split, PreTokenizer.Behavior.REMOVED, true),
                new PreTokenizer.ByteLevel(false, false)));
    return new BpeTokenizer(
        vocab, bpe, new AddedTokens(specials, Normalizer.NONE), Normalizer.NONE, words, true, true, chunker);
  }

  /** Token (byte-level alphabet) to rank; the ranks must be 0..n-1, each once. */
  static Map<String, Integer> ranks(Path file) throws IOException {
    Map<String, Integer> vocab = new HashMap<>();
    Base64.Decoder base64 = Base64.getDecoder();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        String[] parts = line.split("\\s+");
        byte[] bytes;
        int rank;
        try {
          if (parts.length != 2) {
            throw new IllegalArgumentException("expected \"base64-token rank\"");
          }
          bytes = base64.decode(parts[0]);
          rank = Integer.parseInt(parts[1]);
        } catch (IllegalArgumentException e) {
          throw new IOException(file + " line " + number + " is not \"base64-token rank\": " + e.getMessage());
        }
        if (vocab.put(ByteLevelAlphabet.encode(bytes), rank) != null) {
          throw new IOException(file + " line " + number + ": token " + parts[0] + " is listed twice");
        }
      }
    }
    if (vocab.isEmpty()) {
      throw new IOException(file + " holds no tokens");
    }
    boolean[] seen = new boolean[vocab.size()];
    for (int rank : vocab.values()) {
      if (rank < 0 || rank >= seen.length || seen[rank]) {
        throw new IOException(file + ": ranks must be 0.." + (seen.length - 1) + ", each once; found " + rank);
      }
      seen[rank] = true;
    }
    return Map.copyOf(vocab);
  }

  /** {@code added_tokens_decoder} of tokenizer_config.json: {"163584": {"content": "[BOS]", "special": true}, ...}. */
  private static Map<Integer, AddedTokens.Token> addedTokensDecoder(JsonNode config, Path file) throws IOException {
    Map<Integer, AddedTokens.Token> tokens = new HashMap<>();
    if (config == null) {
      return tokens;
    }
    var fields = config.path("added_tokens_decoder").fields();
    while (fields.hasNext()) {
      var entry = fields.next();
      int id;
      try {
        id = Integer.parseInt(entry.getKey());
      } catch (NumberFormatException e) {
        throw new IOException("added_tokens_decoder of the tokenizer_config.json next to " + file
            + " has a key that is not an id: " + entry.getKey());
      }
      JsonNode token = entry.getValue();
      if (!token.path("content").isTextual()) {
        throw new IOException("added_tokens_decoder entry " + id + " next to " + file + " has no content");
      }
      tokens.put(id, new AddedTokens.Token(id, token.get("content").textValue(),
          token.path("special").asBoolean(true), false,
          token.path("single_word").asBoolean(false), token.path("lstrip").asBoolean(false),
          token.path("rstrip").asBoolean(false)));
    }
    return tokens;
  }

  /**
   * Kimi's pre-cut ({@code _split_whitespaces_or_nonwhitespaces} over 400,000-character chunks):
   * a new piece starts after {@value #MAX_RUN} consecutive characters of one kind, white space as
   * Python's {@code str.isspace}. Counted in code points, as Python counts.
   */
  static List<String> cutLongRuns(String text) {
    List<String> pieces = new ArrayList<>();
    int[] cps = text.codePoints().toArray();
    if (cps.length <= MAX_RUN) {
      pieces.add(text);
      return pieces;
    }
    for (int chunk = 0; chunk < cps.length; chunk += MAX_CHUNK) {
      int end = Math.min(cps.length, chunk + MAX_CHUNK);
      int sliceStart = chunk;
      int runLength = 0;
      boolean runIsSpace = isPythonSpace(cps[chunk]);
      for (int i = chunk; i < end; i++) {
        boolean space = isPythonSpace(cps[i]);
        if (space != runIsSpace) {
          runLength = 1;
          runIsSpace = space;
        } else if (++runLength > MAX_RUN) {
          pieces.add(new String(cps, sliceStart, i - sliceStart));
          sliceStart = i;
          runLength = 1;
        }
      }
      pieces.add(new String(cps, sliceStart, end - sliceStart));
    }
    return pieces;
  }

  /** Python's {@code str.isspace}: white space plus the information separators U+001C..U+001F. */
  private static boolean isPythonSpace(int cp) {
    return WhiteSpace.is(cp) || (cp >= 0x1C && cp <= 0x1F);
  }
}
