package io.moeflink.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable character, so
 * that any UTF-8 text becomes a string over 256 characters and BPE never meets an unknown symbol.
 * Printable Latin-1 bytes ({@code !}..{@code ~}, {@code ¡}..{@code ¬}, {@code ®}..{@code ÿ}) stand
 * for themselves; the other 68 (control bytes, space, soft hyphen...) map to U+0100 onwards in byte
 * order, which makes a space {@code Ġ} and a newline {@code Ċ}.
 */
final class ByteLevelAlphabet {

  /** The character that stands for each byte value. */
  private static final char[] CHAR_OF_BYTE = new char[256];

  /** The byte value of each alphabet character, or -1 (indexed by char, up to U+0143). */
  private static final int[] BYTE_OF_CHAR = new int[0x100 + 68];

  static {
    java.util.Arrays.fill(BYTE_OF_CHAR, -1);
    int next = 0x100;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char c = printable ? (char) b : (char) next++;
      CHAR_OF_BYTE[b] = c;
      BYTE_OF_CHAR[c] = b;
    }
  }

  private ByteLevelAlphabet() {}

  /** The alphabet string of {@code text}'s UTF-8 bytes. */
  static String encode(String text) {
    return encode(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The alphabet string of {@code bytes}. */
  static String encode(byte[] bytes) {
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = CHAR_OF_BYTE[bytes[i] & 0xFF];
    }
    return new String(chars);
  }

  /**
   * Appends the bytes that {@code token} stands for. As Hugging Face's ByteLevel decoder does, a
   * token with any character outside the alphabet (an added token such as {@code <｜User｜>}) is
   * taken as plain text and appended as its UTF-8 bytes.
   */
  static void decode(String token, java.io.ByteArrayOutputStream out) {
    int length = token.length();
    for (int i = 0; i < length; i++) {
      char c = token.charAt(i);
      if (c >= BYTE_OF_CHAR.length || BYTE_OF_CHAR[c] < 0) {
        out.writeBytes(token.getBytes(StandardCharsets.UTF_8));
        return;
      }
    }
    for (int i = 0; i < length; i++) {
      out.write(BYTE_OF_CHAR[token.charAt(i)]);
    }
  }
}
