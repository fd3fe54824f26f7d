package io.moeflink.engine.generate;

import io.moeflink.engine.sampling.FinishReason;

/**
 * A finished sequence.
 *
 * @param text the decoded completion (cut before a stop string), or null without a tokenizer
 * @param timeToFirstTokenMillis from admission to the first sampled token
 * @param totalMillis from admission to the last token
 */
public record GenerationResult(
    String id, int[] tokens, String text, FinishReason finishReason, int promptTokens, long timeToFirstTokenMillis,
    long totalMillis) {

  static GenerationResult of(Sequence s, TextDecoder decoder, long nowNanos) {
    int[] tokens = s.generated();
    String text = s.completionText(decoder);
    return new GenerationResult(
        s.request().id(), tokens, text, s.finish().reason(), s.request().promptTokens().length,
        (s.firstTokenNanos() - s.admittedNanos()) / 1_000_000, (nowNanos - s.admittedNanos()) / 1_000_000);
  }
}
