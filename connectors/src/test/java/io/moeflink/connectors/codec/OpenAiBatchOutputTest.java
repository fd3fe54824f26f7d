package io.moeflink.connectors.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.Usage;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpenAiBatchOutputTest {

  @Test
  void writesAChatCompletionWithUsageAndADeterministicId() throws Exception {
    Completion completion = Completion.newBuilder().setId("req-1").setText("Hello!")
        .setFinishReason(FinishReason.LENGTH).setUsage(new Usage(3, 2)).setModel("tiny")
        .setMetadata(Map.of(OpenAiBatchInput.URL_METADATA, OpenAiBatchInput.CHAT_COMPLETIONS))
        .build();

    JsonNode line = Json.MAPPER.readTree(OpenAiBatchOutput.write(completion));

    assertThat(line.get("custom_id").asText()).isEqualTo("req-1");
    assertThat(line.get("id").asText()).startsWith("batch_req_");
    assertThat(line.get("error").isNull()).isTrue();
    JsonNode body = line.get("response").get("body");
    assertThat(line.get("response").get("status_code").asInt()).isEqualTo(200);
    assertThat(body.get("choices").get(0).get("message").get("content").asText())
        .isEqualTo("Hello!");
    assertThat(body.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
    assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(5);
    assertThat(OpenAiBatchOutput.write(completion)).isEqualTo(OpenAiBatchOutput.write(completion));
  }

  @Test
  void writesFailedCompletionsAsErrors() throws Exception {
    Completion failed = Completion.newBuilder().setId("req-2").setFinishReason(FinishReason.ERROR)
        .setError("prompt too long").build();

    JsonNode line = Json.MAPPER.readTree(OpenAiBatchOutput.write(failed));

    assertThat(line.get("response").isNull()).isTrue();
    assertThat(line.get("error").get("message").asText()).isEqualTo("prompt too long");
  }
}
