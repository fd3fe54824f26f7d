package io.moeflink.connectors;

import io.moeflink.schemas.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A JSONL corpus with one line of every kind of bad input next to good ones, and what each line
 * must become. Shared by the decoder's unit test and the corpus ITCase.
 */
final class BadInputs {

  /** Records larger than this are OVERSIZED in the tests. */
  static final int MAX_RECORD_BYTES = 4096;

  /** One corpus line and its expected fate: a reason, or null for a completion. */
  record Line(byte[] bytes, String requestId, DeadLetterReason reason) {
    static Line good(String id, String json) {
      return new Line(json.getBytes(StandardCharsets.UTF_8), id, null);
    }

    static Line bad(String id, DeadLetterReason reason, String json) {
      return new Line(json.getBytes(StandardCharsets.UTF_8), id, reason);
    }
  }

  private BadInputs() {}

  static List<Line> jsonCorpus() {
    List<Line> lines = new ArrayList<>();
    lines.add(Line.good("good-1", "{\"id\":\"good-1\",\"prompt\":\"Hello\"}"));
    lines.add(Line.bad(null, DeadLetterReason.INVALID_JSON, "{\"id\":\"cut\",\"prompt\":"));
    lines.add(Line.bad(null, DeadLetterReason.INVALID_JSON, "not json at all"));
    lines.add(new Line(new byte[] {'{', '"', (byte) 0xFF, (byte) 0xFE, '"', '}'}, null,
        DeadLetterReason.INVALID_JSON));
    lines.add(Line.bad(null, DeadLetterReason.MISSING_ID, "{\"prompt\":\"no id\"}"));
    lines.add(Line.bad(null, DeadLetterReason.WRONG_TYPE, "{\"id\":42,\"prompt\":\"x\"}"));
    lines.add(Line.bad(null, DeadLetterReason.WRONG_TYPE, "[1,2,3]"));
    lines.add(Line.bad("no-prompt", DeadLetterReason.NO_PROMPT, "{\"id\":\"no-prompt\"}"));
    lines.add(Line.bad("empty-prompt", DeadLetterReason.NO_PROMPT,
        "{\"id\":\"empty-prompt\",\"prompt\":\"\"}"));
    lines.add(Line.bad("neg-temp", DeadLetterReason.INVALID_SAMPLING,
        "{\"id\":\"neg-temp\",\"prompt\":\"x\",\"sampling\":{\"temperature\":-0.5}}"));
    lines.add(Line.bad("top-p-zero", DeadLetterReason.INVALID_SAMPLING,
        "{\"id\":\"top-p-zero\",\"prompt\":\"x\",\"top_p\":0}"));
    lines.add(Line.bad("top-p-high", DeadLetterReason.INVALID_SAMPLING,
        "{\"id\":\"top-p-high\",\"prompt\":\"x\",\"sampling\":{\"top_p\":1.5}}"));
    lines.add(Line.bad("max-tokens-zero", DeadLetterReason.INVALID_SAMPLING,
        "{\"id\":\"max-tokens-zero\",\"prompt\":\"x\",\"max_tokens\":0}"));
    lines.add(Line.bad("wrong-type", DeadLetterReason.WRONG_TYPE,
        "{\"id\":\"wrong-type\",\"prompt\":\"x\",\"sampling\":{\"max_tokens\":\"ten\"}}"));
    lines.add(Line.bad("two-prompts", DeadLetterReason.INVALID_PROMPT,
        "{\"id\":\"two-prompts\",\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"y\"}]}"));
    lines.add(Line.bad("bad-role", DeadLetterReason.INVALID_PROMPT,
        "{\"id\":\"bad-role\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}"));
    lines.add(Line.bad("openai-get", DeadLetterReason.UNSUPPORTED_REQUEST,
        "{\"custom_id\":\"openai-get\",\"method\":\"GET\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}}"));
    char[] huge = new char[MAX_RECORD_BYTES * 3];
    Arrays.fill(huge, 'x');
    lines.add(Line.bad(null, DeadLetterReason.OVERSIZED,
        "{\"id\":\"oversized\",\"prompt\":\"" + new String(huge) + "\"}"));
    lines.add(Line.good("good-openai",
        "{\"custom_id\":\"good-openai\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
            + "\"max_tokens\":8,\"temperature\":0.7,\"stop\":\"\\n\"}}"));
    lines.add(Line.good("good-2",
        "{\"id\":\"good-2\",\"prompt_token_ids\":[1,2,3],\"sampling\":{\"top_p\":1,\"seed\":7}}"));
    return lines;
  }
}
