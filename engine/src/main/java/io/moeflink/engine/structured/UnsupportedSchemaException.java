package io.moeflink.engine.structured;

/**
 * A response format that constrained decoding cannot enforce or does not understand; the message
 * names the keyword (or the field) and says what is supported instead.
 */
public final class UnsupportedSchemaException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The schema keyword at fault, or null when the response format itself is malformed. */
  private final String keyword;

  UnsupportedSchemaException(String keyword, String message) {
    super(message);
    this.keyword = keyword;
  }

  /** The schema keyword at fault, or null when the response format itself is malformed. */
  public String keyword() {
    return keyword;
  }
}
