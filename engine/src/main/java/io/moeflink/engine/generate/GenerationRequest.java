package io.moeflink.engine.generate;

import io.moeflink.engine.sampling.SamplingParams;

/**
 * A request as the engine sees it: tokenized, validated.
 *
 * @param id the caller's request id
 * @param promptTokens the prompt, BOS included where the model wants one
 * @param sampling how to choose tokens and when to stop
 */
public record GenerationRequest(String id, int[] promptTokens, SamplingParams sampling) {

  public GenerationRequest {
    if (promptTokens.length == 0) {
      throw new IllegalArgumentException("Request " + id + " has an empty prompt");
    }
  }
}
