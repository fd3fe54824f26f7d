package io.moeflink.engine.sampling;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides, after each generated token, whether a sequence is finished and why. Stateless: the
 * caller passes what has been generated so far, so the answer is the same after a restore.
 */
public final class StopCondition {

  /**
   * A finished sequence.
   *
   * @param reason why it finished
   * @param textLength how much of the decoded text to keep: up to, not including, the stop string;
   *     else all of it
   */
  public record Finish(FinishReason reason, int textLength) {}

  private final Set<Integer> stopTokenIds;
  private final List<String> stopStrings;
  private final int maxTokens;

  public StopCondition(SamplingParams params) {
    this.stopTokenIds = params.stopTokenIds();
    this.stopStrings = params.stopStrings();
    this.maxTokens = params.maxTokens();
  }

  /**
   * Checks a sequence after its newest token. A stop string takes precedence over the rest (the
   * text is cut there), then a stop token, then the length limit.
   *
   * @param tokenId the token just generated
   * @param generatedCount how many tokens have been generated, this one included (1 or more)
   * @param text the decoded completion so far, this token included. Decode with special tokens
   *     skipped, or the text of an EOS token becomes part of the completion.
   * @return the finish, or empty if the sequence goes on
   */
  public Optional<Finish> check(int tokenId, int generatedCount, String text) {
    if (generatedCount < 1) {
      throw new IllegalArgumentException("generatedCount must be >= 1, got " + generatedCount);
    }
    int cut = firstStopString(text);
    if (cut >= 0) {
      return Optional.of(new Finish(FinishReason.STOP, cut));
    }
    if (stopTokenIds.contains(tokenId)) {
      return Optional.of(new Finish(FinishReason.STOP, text.length()));
    }
    if (generatedCount >= maxTokens) {
      return Optional.of(new Finish(FinishReason.LENGTH, text.length()));
    }
    return Optional.empty();
  }

  /**
   * Where the earliest stop string starts, or -1. Searches the whole text: it is cheap next to a
   * forward pass, and a token that completes a multi-byte character can change text before it.
   */
  private int firstStopString(String text) {
    int first = -1;
    for (String stop : stopStrings) {
      int at = text.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    return first;
  }
}
