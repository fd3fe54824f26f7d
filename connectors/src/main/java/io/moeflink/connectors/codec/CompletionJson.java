package io.moeflink.connectors.codec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.schemas.Completion;
import java.util.Locale;

/**
 * Completions as our JSON lines: the Avro field names of {@link Completion}, {@code finish_reason}
 * in lower case ({@code stop}, {@code length}, {@code error}).
 */
public final class CompletionJson {

  private CompletionJson() {}

  /** One line, without its line break. */
  public static byte[] write(Completion completion) {
    ObjectNode json = Json.object();
    json.put("id", completion.getId());
    json.put("text", completion.getText());
    if (completion.getReasoning() != null) {
      json.put("reasoning", completion.getReasoning());
    }
    completion.getTokenIds().forEach(json.putArray("token_ids")::add);
    json.put("finish_reason", completion.getFinishReason().name().toLowerCase(Locale.ROOT));
    json.put("error", completion.getError());
    json.putObject("usage")
        .put("prompt_tokens", completion.getUsage().getPromptTokens())
        .put("completion_tokens", completion.getUsage().getCompletionTokens());
    json.putObject("timings")
        .put("queued_ms", completion.getTimings().getQueuedMs())
        .put("time_to_first_token_ms", completion.getTimings().getTimeToFirstTokenMs())
        .put("total_ms", completion.getTimings().getTotalMs());
    json.put("model", completion.getModel());
    json.put("seed", completion.getSeed());
    completion.getMetadata().forEach(json.putObject("metadata")::put);
    return Json.bytes(json);
  }
}
