package io.moeflink.connectors.codec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;

/**
 * Completions as lines of an OpenAI batch output file, so that tools written for that format
 * read a corpus run unchanged: {@code {"id": "batch_req_...", "custom_id": ..., "response":
 * {"status_code": 200, "request_id": ..., "body": {"object": "chat.completion", "model": ...,
 * "choices": [{"index": 0, "message": {"role": "assistant", "content": ...}, "finish_reason":
 * "stop"}], "usage": {...}}}, "error": null}}.
 *
 * <p>Ids are derived from the request id, not random, so a replayed run writes identical bytes.
 * A completion that failed ({@code finish_reason} ERROR) has {@code "response": null} and {@code
 * "error": {"code": "inference_error", "message": ...}}.
 */
public final class OpenAiBatchOutput {

  private OpenAiBatchOutput() {}

  /** One output line, without its line break. */
  public static byte[] write(Completion completion) {
    String id = completion.getId();
    String hash = UUID.nameUUIDFromBytes(id.getBytes(StandardCharsets.UTF_8)).toString()
        .replace("-", "");
    ObjectNode line = Json.object();
    line.put("id", "batch_req_" + hash);
    line.put(OpenAiBatchInput.CUSTOM_ID, id);
    if (completion.getFinishReason() == FinishReason.ERROR) {
      line.putNull("response");
      line.putObject("error")
          .put("code", "inference_error")
          .put("message", completion.getError() != null ? completion.getError() : "");
      return Json.bytes(line);
    }
    boolean chat =
        !OpenAiBatchInput.COMPLETIONS.equals(
            completion.getMetadata().get(OpenAiBatchInput.URL_METADATA));
    ObjectNode response = line.putObject("response");
    response.put("status_code", 200);
    response.put("request_id", hash);
    ObjectNode body = response.putObject("body");
    body.put("id", (chat ? "chatcmpl-" : "cmpl-") + hash);
    body.put("object", chat ? "chat.completion" : "text_completion");
    body.put("model", completion.getModel());
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0);
    if (chat) {
      ObjectNode message = choice.putObject("message").put("role", "assistant").put("content", completion.getText());
      if (completion.getReasoning() != null) {
        message.put("reasoning_content", completion.getReasoning()); // as vLLM and DeepSeek's API name it
      }
    } else {
      choice.put("text", completion.getText());
    }
    choice.put("finish_reason", completion.getFinishReason().name().toLowerCase(Locale.ROOT));
    int prompt = completion.getUsage().getPromptTokens();
    int generated = completion.getUsage().getCompletionTokens();
    body.putObject("usage")
        .put("prompt_tokens", prompt)
        .put("completion_tokens", generated)
        .put("total_tokens", prompt + generated);
    line.putNull("error");
    return Json.bytes(line);
  }
}
