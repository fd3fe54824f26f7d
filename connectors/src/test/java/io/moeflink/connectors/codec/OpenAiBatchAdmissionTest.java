package io.moeflink.connectors.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** An OpenAI batch line's priority (vLLM's, lower first) and tenant reach the request. */
class OpenAiBatchAdmissionTest {

  private static InferenceRequest parse(String body) throws InvalidRecordException {
    String line = "{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]" + body + "}}";
    return RequestJson.parse(line.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void lowerVllmPriorityIsAdmittedFirst() throws Exception {
    InferenceRequest urgent = parse(",\"priority\":-5");
    InferenceRequest bulk = parse(",\"priority\":3");
    assertThat(urgent.getPriority()).isGreaterThan(bulk.getPriority());
    assertThat(urgent.getPriority()).isEqualTo(5);
    assertThat(parse("").getPriority()).isZero();
  }

  @Test
  void tenantFromMetadataElseUser() throws Exception {
    assertThat(parse(",\"user\":\"alice\"").getTenant()).isEqualTo("alice");
    assertThat(parse(",\"user\":\"alice\",\"metadata\":{\"tenant\":\"search-team\"}").getTenant())
        .isEqualTo("search-team");
    assertThat(parse("").getTenant()).isNull();
  }

  @Test
  void aPriorityThatIsNotAnIntegerIsRefusedWithItsName() {
    assertThatThrownBy(() -> parse(",\"priority\":\"high\""))
        .isInstanceOf(InvalidRecordException.class)
        .hasMessageContaining("priority")
        .satisfies(e -> assertThat(((InvalidRecordException) e).reason()).isEqualTo(DeadLetterReason.WRONG_TYPE));
  }
}
