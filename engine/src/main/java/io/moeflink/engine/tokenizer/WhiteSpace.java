package io.moeflink.engine.tokenizer;

/**
 * Unicode's {@code White_Space} property, which Rust's {@code char::is_whitespace}, Rust regex
 * {@code \s} and Oniguruma's Unicode {@code \s} all use (Java's {@code Character.isWhitespace}
 * leaves out the no-break spaces, so it is not the same set).
 */
final class WhiteSpace {

  private WhiteSpace() {}

  static boolean is(int codePoint) {
    return (codePoint >= '\t' && codePoint <= '\r')
        || codePoint == 0x85
        || Character.isSpaceChar(codePoint); // Zs, Zl, Zp
  }
}
