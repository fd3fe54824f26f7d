package io.moeflink.connectors.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A request's thinking choice in both input shapes, a completion's reasoning in both outputs. */
class ReasoningFieldsTest {

  private static InferenceRequest parse(String line) throws InvalidRecordException {
    return RequestJson.parse(line.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsThinkingFromOurJsonAndFromChatTemplateKwargs() throws Exception {
    assertThat(parse("{\"id\":\"a\",\"prompt\":\"Hi\",\"thinking\":true}").getThinking()).isTrue();
    assertThat(parse("{\"id\":\"b\",\"prompt\":\"Hi\"}").getThinking()).isNull();
    InferenceRequest off = parse("{\"id\":\"c\",\"prompt\":\"Hi\",\"thinking\":false}");
    assertThat(parse(new String(RequestJson.write(off), StandardCharsets.UTF_8)).getThinking()).isFalse();
    String batch = "{\"custom_id\":\"d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"chat_template_kwargs\":{\"thinking\":true}}}";
    assertThat(parse(batch).getThinking()).isTrue();
    assertThat(parse(batch.replace("\"thinking\"", "\"enable_thinking\"").replace("true", "false")).getThinking())
        .isFalse();
    assertThatThrownBy(() -> parse("{\"id\":\"e\",\"prompt\":\"Hi\",\"thinking\":\"yes\"}"))
        .isInstanceOf(InvalidRecordException.class).hasMessageContaining("thinking");
  }

  @Test
  void writesReasoningApartFromTheAnswer() throws Exception {
    Completion c = Completion.newBuilder().setId("r").setText("4").setReasoning("2+2 is 4.")
        .setFinishReason(FinishReason.STOP)
        .setMetadata(Map.of(OpenAiBatchInput.URL_METADATA, OpenAiBatchInput.CHAT_COMPLETIONS)).build();
    JsonNode ours = Json.MAPPER.readTree(CompletionJson.write(c));
    assertThat(ours.get("text").asText()).isEqualTo("4");
    assertThat(ours.get("reasoning").asText()).isEqualTo("2+2 is 4.");
    JsonNode message = Json.MAPPER.readTree(OpenAiBatchOutput.write(c)).get("response").get("body")
        .get("choices").get(0).get("message");
    assertThat(message.get("content").asText()).isEqualTo("4");
    assertThat(message.get("reasoning_content").asText()).isEqualTo("2+2 is 4.");
    Completion plain = Completion.newBuilder(c).setReasoning(null).build();
    assertThat(Json.MAPPER.readTree(CompletionJson.write(plain)).has("reasoning")).isFalse();
  }
}
