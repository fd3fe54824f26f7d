package io.moeflink.engine.generate;

import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.TokenConstraint;

/**
 * A request as the engine sees it: tokenized, validated.
 *
 * @param id the caller's request id
 * @param promptTokens the prompt, BOS included where the model wants one
 * @param sampling how to choose tokens and when to stop
 * @param constraint the structured output every token must keep to, or null for free text
 */
public record GenerationRequest(String id, int[] promptTokens, SamplingParams sampling, TokenConstraint constraint) {

  public GenerationRequest {
    if (promptTokens.length == 0) {
      throw new IllegalArgumentException("Request " + id + " has an empty prompt");
    }
  }

  /** A request for free text. */
  public GenerationRequest(String id, int[] promptTokens, SamplingParams sampling) {
    this(id, promptTokens, sampling, null);
  }
}
