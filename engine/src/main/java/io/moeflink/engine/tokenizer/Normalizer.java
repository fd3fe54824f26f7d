package io.moeflink.engine.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code normalizer} of {@code tokenizer.json}: rewrites text before it is split into words (and
 * before the added tokens marked {@code normalized} are looked for). DeepSeek-V3 declares an empty
 * {@code Sequence}.
 */
sealed interface Normalizer {

  /** The normalizer that changes nothing. */
  Normalizer NONE = new Sequence(List.of());

  String apply(String text);

  /** Each normalizer in turn. */
  record Sequence(List<Normalizer> steps) implements Normalizer {
    @Override
    public String apply(String text) {
      for (Normalizer step : steps) {
        text = step.apply(text);
      }
      return text;
    }
  }

  /** {@code NFC}, {@code NFD}, {@code NFKC} or {@code NFKD}. */
  record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
    @Override
    public String apply(String text) {
      return java.text.Normalizer.normalize(text, form);
    }
  }

  /** {@code Lowercase}: Unicode lower case, independent of the JVM's locale. */
  record Lowercase() implements Normalizer {
    @Override
    public String apply(String text) {
      return text.toLowerCase(Locale.ROOT);
    }
  }

  /** {@code Replace}: every match of a string or regex pattern becomes {@code content}. */
  record Replace(Pattern pattern, String content) implements Normalizer {
    @Override
    public String apply(String text) {
      return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
    }
  }

  /** {@code Prepend}: a prefix before any non-empty text. */
  record Prepend(String prefix) implements Normalizer {
    @Override
    public String apply(String text) {
      return text.isEmpty() ? text : prefix + text;
    }
  }

  /** {@code Strip}: white space off the left and/or right end. */
  record Strip(boolean left, boolean right) implements Normalizer {
    @Override
    public String apply(String text) {
      int start = 0;
      int end = text.length();
      while (left && start < end && WhiteSpace.is(text.codePointAt(start))) {
        start += Character.charCount(text.codePointAt(start));
      }
      while (right && end > start && WhiteSpace.is(text.codePointBefore(end))) {
        end -= Character.charCount(text.codePointBefore(end));
      }
      return text.substring(start, end);
    }
  }
}
