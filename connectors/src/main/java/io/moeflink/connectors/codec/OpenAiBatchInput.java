package io.moeflink.connectors.codec;

import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of an OpenAI batch input file: {@code {"custom_id": "r1", "method": "POST", "url":
 * "/v1/chat/completions", "body": {"model": ..., "messages": [...], "max_tokens": 16, ...}}}.
 *
 * <p>{@code custom_id} becomes the request id; {@code /v1/completions} bodies give a {@code prompt}
 * instead of {@code messages}. The url is kept in the metadata under {@link #URL_METADATA} so that
 * the batch output can answer in the same shape. Only one choice per request is produced, so
 * {@code n} other than 1 is UNSUPPORTED_REQUEST.
 *
 * <p>Admission: {@code body.priority} is read as vLLM's OpenAI-compatible server takes it (an
 * integer, lower is handled earlier, default 0), so a batch file written for vLLM keeps its order:
 * the request's priority, where higher is admitted first, is its negation. The tenant is {@code
 * body.metadata.tenant}, else OpenAI's {@code body.user}.
 */
final class OpenAiBatchInput {

  static final String CUSTOM_ID = "custom_id";

  /** Metadata key holding the request's endpoint url. */
  static final String URL_METADATA = "openai_batch.url";

  static final String CHAT_COMPLETIONS = "/v1/chat/completions";

  static final String COMPLETIONS = "/v1/completions";

  /** The body's metadata key naming the request's tenant. */
  static final String TENANT_METADATA = "tenant";

  private OpenAiBatchInput() {}

  static InferenceRequest parse(JsonObject line) throws InvalidRecordException {
    String id = RequestJson.readId(line, CUSTOM_ID);
    try {
      return parseBody(line, id);
    } catch (InvalidRecordException e) {
      throw e.forRequest(id);
    }
  }

  private static InferenceRequest parseBody(JsonObject line, String id)
      throws InvalidRecordException {
    String method = line.string("method");
    if (method != null && !method.equals("POST")) {
      throw unsupported("method must be POST, got " + method);
    }
    String url = line.string("url");
    if (url == null) {
      url = CHAT_COMPLETIONS;
    }
    if (!url.equals(CHAT_COMPLETIONS) && !url.equals(COMPLETIONS)) {
      throw unsupported("url must be " + CHAT_COMPLETIONS + " or " + COMPLETIONS + ", got " + url);
    }
    JsonObject body = line.object("body");
    if (body == null) {
      throw new InvalidRecordException(DeadLetterReason.NO_PROMPT, "The batch line has no 'body'");
    }
    Integer n = body.integer("n");
    if (n != null && n != 1) {
      throw unsupported("only n=1 is supported, got n=" + n);
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, String> given = body.stringMap("metadata");
    if (given != null) {
      metadata.putAll(given);
    }
    metadata.put(URL_METADATA, url);
    SamplingParams sampling = RequestJson.readSampling(body, null);
    Integer maxCompletionTokens = body.integer("max_completion_tokens");
    if (maxCompletionTokens != null) {
      sampling = sampling != null ? sampling : SamplingParams.newBuilder().build();
      sampling.setMaxTokens(maxCompletionTokens);
    }
    InferenceRequest.Builder request =
        InferenceRequest.newBuilder()
            .setId(id)
            .setModel(body.string("model"))
            .setSampling(sampling)
            .setMetadata(metadata)
            .setThinking(thinking(body))
            .setPriority(priority(body))
            .setTenant(metadata.containsKey(TENANT_METADATA) ? metadata.get(TENANT_METADATA) : body.string("user"))
            .setResponseFormat(RequestJson.readResponseFormat(body));
    if (url.equals(COMPLETIONS)) {
      request.setPrompt(body.string("prompt"));
    } else {
      request.setMessages(RequestJson.readMessages(body.objects("messages")));
    }
    return request.build();
  }

  /**
   * Reasoning on or off as OpenAI-compatible servers take it: {@code chat_template_kwargs} with
   * {@code thinking} (DeepSeek-V3.1's variable) or {@code enable_thinking}.
   */
  private static Boolean thinking(JsonObject body) throws InvalidRecordException {
    JsonObject kwargs = body.object("chat_template_kwargs");
    if (kwargs == null) {
      return null;
    }
    Boolean thinking = kwargs.bool("thinking");
    return thinking != null ? thinking : kwargs.bool("enable_thinking");
  }

  /** vLLM's {@code priority} (lower first) as the request's priority (higher first). */
  private static int priority(JsonObject body) throws InvalidRecordException {
    Integer lowerFirst = body.integer("priority");
    if (lowerFirst == null) {
      return 0;
    }
    if (lowerFirst == Integer.MIN_VALUE) {
      throw unsupported("priority " + lowerFirst + " has no negation; give a priority above it");
    }
    return -lowerFirst;
  }

  static InvalidRecordException unsupported(String message) {
    return new InvalidRecordException(DeadLetterReason.UNSUPPORTED_REQUEST, message);
  }
}
