package io.moeflink.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code pre_tokenizer} of {@code tokenizer.json}: splits text into the words that BPE encodes
 * one by one (no merge crosses a word boundary). DeepSeek-V3 declares a {@code Sequence} of three
 * regex {@code Split}s (digit runs of up to three, CJK runs, then a GPT-4-like word pattern) and a
 * {@code ByteLevel} that only maps bytes to the byte-level alphabet; GPT-2-style tokenizers declare
 * a lone {@code ByteLevel} that also splits with GPT-2's word pattern.
 */
sealed interface PreTokenizer {

  /** Appends the words of {@code piece} (never empty) to {@code out}; empty words are left out. */
  void split(String piece, List<String> out);

  /** Each pre-tokenizer in turn, over every word the previous one produced. */
  record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
    @Override
    public void split(String piece, List<String> out) {
      List<String> words = List.of(piece);
      for (PreTokenizer step : steps) {
        List<String> next = new ArrayList<>(words.size() * 2);
        for (String word : words) {
          step.split(word, next);
        }
        words = next;
      }
      out.addAll(words);
    }
  }

  /** What {@code Split} does with the text a pattern matches (Hugging Face's names). */
  enum Behavior {
    /** Matches are dropped; the text between them stays. */
    REMOVED,
    /** Each match and each stretch between matches is a word of its own. */
    ISOLATED,
    /** A match joins the stretch before it. */
    MERGED_WITH_PREVIOUS,
    /** A match joins the stretch after it. */
    MERGED_WITH_NEXT,
    /** Consecutive matches form one word. */
    CONTIGUOUS
  }

  /**
   * {@code Split}: cuts a word at the matches of a pattern. With {@code invert} the matches are the
   * words and the text between them is the delimiter (tiktoken keeps only the matches: {@code
   * invert} with {@link Behavior#REMOVED}).
   */
  record Split(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
    @Override
    public void split(String piece, List<String> out) {
      // (start, end, isDelimiter) runs covering the piece, as Hugging Face's find_matches.
      List<int[]> runs = new ArrayList<>();
      Matcher m = pattern.matcher(piece);
      int prev = 0;
      while (m.find()) {
        if (prev != m.start()) {
          runs.add(new int[] {prev, m.start(), invert ? 1 : 0});
        }
        runs.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
        prev = m.end();
      }
      if (prev != piece.length()) {
        runs.add(new int[] {prev, piece.length(), invert ? 1 : 0});
      }
      for (int[] word : apply(runs)) {
        if (word[1] > word[0]) {
          out.add(piece.substring(word[0], word[1]));
        }
      }
    }

    private List<int[]> apply(List<int[]> runs) {
      List<int[]> words = new ArrayList<>(runs.size());
      boolean previousMatch = false;
      switch (behavior) {
        case ISOLATED -> words.addAll(runs);
        case REMOVED -> runs.stream().filter(r -> r[2] == 0).forEach(words::add);
        case MERGED_WITH_PREVIOUS -> {
          for (int[] run : runs) {
            boolean match = run[2] == 1;
            if (match && !previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[1] = run[1];
            } else {
              words.add(run.clone());
            }
            previousMatch = match;
          }
        }
        case MERGED_WITH_NEXT -> {
          for (int i = runs.size() - 1; i >= 0; i--) {
            int[] run = runs.get(i);
            boolean match = run[2] == 1;
            if (match && !previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[0] = run[0];
            } else {
              words.add(run.clone());
            }
            previousMatch = match;
          }
          java.util.Collections.reverse(words);
        }
        case CONTIGUOUS -> {
          for (int[] run : runs) {
            boolean match = run[2] == 1;
            if (match == previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[1] = run[1];
            } else {
              words.add(run.clone());
            }
            previousMatch = match;
          }
        }
      }
      return words;
    }
  }

  /**
   * {@code ByteLevel}: optionally a space before each word that lacks one ({@code
   * add_prefix_space}) and a split by GPT-2's word pattern ({@code use_regex}), then each word's
   * UTF-8 bytes as byte-level alphabet characters.
   */
  record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {

    /** GPT-2's word pattern, as Hugging Face's ByteLevel pre-tokenizer compiles it. */
    static final Pattern GPT2_WORDS =
        SplitPattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private static final Split GPT2_SPLIT = new Split(GPT2_WORDS, Behavior.ISOLATED, false);

    @Override
    public void split(String piece, List<String> out) {
      String text = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
      if (!useRegex) {
        out.add(ByteLevelAlphabet.encode(text));
        return;
      }
      List<String> words = new ArrayList<>();
      GPT2_SPLIT.split(text, words);
      for (String word : words) {
        out.add(ByteLevelAlphabet.encode(word));
      }
    }
  }
}
