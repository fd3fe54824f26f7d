package io.moeflink.engine.structured;

import io.moeflink.engine.tokenizer.Tokenizer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Structured output for one tokenizer: compiles each response format to its {@link
 * TokenConstraint} once and keeps the most recently used ones (keyed by the format's canonical
 * text), so requests that share a schema share its automaton and its memoized masks.
 */
public final class StructuredOutput {

  /** Formats kept compiled; the least recently used beyond this are dropped. */
  static final int CACHED_FORMATS = 64;

  private final Tokenizer tokenizer;
  private TokenVocabulary vocabulary; // built on first use
  private final Map<String, TokenConstraint> cache = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, TokenConstraint> eldest) {
      return size() > CACHED_FORMATS;
    }
  };

  /** @param tokenizer the model's tokenizer, or null when it has none (constraints are then refused) */
  public StructuredOutput(Tokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /**
   * The constraint for {@code format}, compiled on first use.
   *
   * @throws UnsupportedSchemaException if the model has no tokenizer to map text to tokens
   */
  public synchronized TokenConstraint constraint(ResponseFormat format) {
    TokenConstraint c = cache.get(format.canonical());
    if (c == null) {
      if (vocabulary == null) {
        if (tokenizer == null) {
          throw new UnsupportedSchemaException(null, "response_format needs the model's tokenizer, and this model"
              + " directory has none");
        }
        vocabulary = TokenVocabulary.of(tokenizer);
      }
      c = new TokenConstraint(format, vocabulary);
      cache.put(format.canonical(), c);
    }
    return c;
  }

  /** Parses {@code responseFormat} (JSON text) and compiles it; null for none or {@code text}. */
  public TokenConstraint constraint(String responseFormat) {
    if (responseFormat == null) {
      return null;
    }
    return ResponseFormat.parse(responseFormat).map(this::constraint).orElse(null);
  }
}
