package io.moeflink.engine.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the split patterns of tokenizer files, written for Oniguruma (Hugging Face tokenizers)
 * or Rust's regex crate (tiktoken), as {@link java.util.regex.Pattern}s that match the same text.
 *
 * <ul>
 *   <li>{@code \s}, {@code \S}, {@code \w}, {@code \d} are Unicode classes there (Unicode's {@code
 *       White_Space} for {@code \s}); {@link Pattern#UNICODE_CHARACTER_CLASS} makes them so here,
 *       and makes {@code (?i)} fold case by Unicode rules as both engines do.
 *   <li>{@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{S}}, {@code \p{M}}, {@code \p{Lu}}
 *       and the other general categories are read alike. A script written bare, as {@code
 *       \p{Han}}, is {@code \p{IsHan}} in Java; Oniguruma's {@code \p{^X}} is {@code \P{X}}.
 *   <li>Character class intersection ({@code [\p{L}&&[^\p{Han}]]}), look-ahead, counted
 *       repetition and alternation (leftmost alternative first, with backtracking) mean the same.
 * </ul>
 *
 * <p>What can differ is the Unicode version behind the character properties: a character assigned
 * after the JDK's Unicode version (Unicode 13 in JDK 17, 15 in JDK 21) is unassigned here and may
 * be split differently from a newer tokenizers build.
 */
final class SplitPattern {

  private static final Pattern PROPERTY = Pattern.compile("\\\\([pP])\\{(\\^?)([A-Za-z_][A-Za-z0-9_ =-]*)}");

  private SplitPattern() {}

  /**
   * @throws PatternSyntaxException if the pattern uses syntax Java cannot read
   */
  static Pattern compile(String regex) {
    return Pattern.compile(translateProperties(regex), Pattern.UNICODE_CHARACTER_CLASS);
  }

  /** {@code \p{Han}} to {@code \p{IsHan}} wherever Java does not know the bare name. */
  private static String translateProperties(String regex) {
    Matcher m = PROPERTY.matcher(regex);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(3);
      if (!javaKnows(name) && javaKnows("Is" + name)) {
        name = "Is" + name;
      }
      boolean negated = m.group(1).equals("P") ^ m.group(2).equals("^"); // Oniguruma's \p{^X}
      String replacement = (negated ? "\\P{" : "\\p{") + name + "}";
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static boolean javaKnows(String property) {
    try {
      Pattern.compile("\\p{" + property + "}");
      return true;
    } catch (PatternSyntaxException e) {
      return false;
    }
  }
}
