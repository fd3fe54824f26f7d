package io.moeflink.engine.sampling;

import java.util.List;
import java.util.Set;

/**
 * How a request wants its tokens chosen and when it wants to stop. Validated on construction, so a
 * bad request fails at admission with a message naming the field, not at the first sampled token.
 *
 * @param temperature divides the logits before the softmax; {@code 0} means greedy (argmax)
 * @param topK keep only the {@code topK} most likely tokens; {@code 0} means no limit
 * @param topP keep the smallest set of most likely tokens whose probability reaches {@code topP}
 *     (nucleus sampling); {@code 1} means no limit
 * @param seed the random seed; with the position of a token it fixes that token's random draw
 * @param maxTokens the most tokens to generate
 * @param stopTokenIds generating one of these ends the sequence (it is kept as the last token); the
 *     caller adds the tokenizer's EOS here unless EOS should be ignored
 * @param stopStrings generating one of these ends the sequence; the text is cut before it
 */
public record SamplingParams(
    double temperature,
    int topK,
    double topP,
    long seed,
    int maxTokens,
    Set<Integer> stopTokenIds,
    List<String> stopStrings) {

  /**
   * Validates and takes immutable copies; {@code null} collections mean none.
   *
   * @throws IllegalArgumentException naming the field, its value and the allowed range
   */
  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException(
          "temperature must be finite and >= 0 (0 = greedy), got " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0 (0 = no limit), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1] (1 = no limit), got " + topP);
    }
    if (maxTokens <= 0) {
      throw new IllegalArgumentException("maxTokens must be > 0, got " + maxTokens);
    }
    stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
    for (int id : stopTokenIds) {
      if (id < 0) {
        throw new IllegalArgumentException("stopTokenIds must be >= 0, got " + id);
      }
    }
    stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    for (String stop : stopStrings) {
      if (stop.isEmpty()) {
        throw new IllegalArgumentException("stopStrings must not contain an empty string");
      }
    }
  }

  /** Greedy decoding of at most {@code maxTokens} tokens, with no stop tokens or strings. */
  public static SamplingParams greedy(int maxTokens) {
    return new SamplingParams(0, 0, 1, 0, maxTokens, Set.of(), List.of());
  }

  /** Whether the sampler takes the argmax and ignores seed, top-k and top-p. */
  public boolean isGreedy() {
    return temperature == 0;
  }
}
