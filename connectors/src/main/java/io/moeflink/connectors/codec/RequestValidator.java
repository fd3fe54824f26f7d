package io.moeflink.connectors.codec;

import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.util.List;
import java.util.Set;

/**
 * The checks every request passes before admission, whatever its encoding: an id, exactly one
 * kind of prompt, and sampling values the sampler can use. What it rejects would otherwise fail
 * deep inside generation, where the record's bytes are gone.
 */
public final class RequestValidator {

  /** Chat roles the DeepSeek-V3 chat template knows. */
  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private RequestValidator() {}

  /** Returns normally when {@code request} may be admitted. */
  public static void validate(InferenceRequest request) throws InvalidRecordException {
    if (request.getId() == null || request.getId().isBlank()) {
      throw new InvalidRecordException(
          DeadLetterReason.MISSING_ID, "The request has no id; every request needs one");
    }
    try {
      validatePrompt(request);
      validateSampling(request.getSampling());
    } catch (InvalidRecordException e) {
      throw e.forRequest(request.getId());
    }
  }

  private static void validatePrompt(InferenceRequest request) throws InvalidRecordException {
    int kinds =
        (request.getPrompt() != null ? 1 : 0)
            + (request.getMessages() != null ? 1 : 0)
            + (request.getPromptTokenIds() != null ? 1 : 0);
    if (kinds > 1) {
      throw new InvalidRecordException(
          DeadLetterReason.INVALID_PROMPT,
          "Give exactly one of prompt, messages or prompt_token_ids, not " + kinds);
    }
    if (isEmpty(request.getPrompt())
        && isEmpty(request.getMessages())
        && isEmpty(request.getPromptTokenIds())) {
      throw new InvalidRecordException(
          DeadLetterReason.NO_PROMPT,
          "The request has no prompt: give a non-empty prompt, messages or prompt_token_ids");
    }
    if (request.getMessages() != null) {
      for (ChatMessage message : request.getMessages()) {
        if (!ROLES.contains(message.getRole())) {
          throw new InvalidRecordException(
              DeadLetterReason.INVALID_PROMPT,
              "Message role must be one of " + ROLES + ", got '" + message.getRole() + "'");
        }
      }
    }
    if (request.getPromptTokenIds() != null
        && request.getPromptTokenIds().stream().anyMatch(id -> id < 0)) {
      throw new InvalidRecordException(
          DeadLetterReason.INVALID_PROMPT, "prompt_token_ids must not be negative");
    }
  }

  private static void validateSampling(SamplingParams sampling) throws InvalidRecordException {
    if (sampling == null) {
      return;
    }
    Integer maxTokens = sampling.getMaxTokens();
    if (maxTokens != null && maxTokens <= 0) {
      throw invalidSampling("max_tokens must be > 0, got " + maxTokens);
    }
    Float temperature = sampling.getTemperature();
    if (temperature != null && !(temperature >= 0f && Float.isFinite(temperature))) {
      throw invalidSampling("temperature must be >= 0 (0 is greedy), got " + temperature);
    }
    Float topP = sampling.getTopP();
    if (topP != null && !(topP > 0f && topP <= 1f)) {
      throw invalidSampling("top_p must be in (0, 1], got " + topP);
    }
    Integer topK = sampling.getTopK();
    if (topK != null && topK < 0) {
      throw invalidSampling("top_k must be >= 0 (0 means no limit), got " + topK);
    }
    if (sampling.getStop().stream().anyMatch(String::isEmpty)) {
      throw invalidSampling("stop strings must not be empty");
    }
    if (sampling.getStopTokenIds().stream().anyMatch(id -> id < 0)) {
      throw invalidSampling("stop_token_ids must not be negative");
    }
  }

  private static boolean isEmpty(String value) {
    return value == null || value.isEmpty();
  }

  private static boolean isEmpty(List<?> value) {
    return value == null || value.isEmpty();
  }

  private static InvalidRecordException invalidSampling(String message) {
    return new InvalidRecordException(DeadLetterReason.INVALID_SAMPLING, message);
  }
}
