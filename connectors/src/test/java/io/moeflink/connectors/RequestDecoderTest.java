package io.moeflink.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.FilePosition;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.KafkaPosition;
import io.moeflink.schemas.SamplingParams;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.Test;

class RequestDecoderTest {

  private final RequestDecoder json =
      RequestDecoder.builder()
          .format(RecordFormat.JSON)
          .maxRecordBytes(BadInputs.MAX_RECORD_BYTES)
          .build();

  private final RequestDecoder avro =
      RequestDecoder.builder().maxRecordBytes(BadInputs.MAX_RECORD_BYTES).build();

  @Test
  void everyJsonLineBecomesARequestOrTheExpectedDeadLetter() {
    List<BadInputs.Line> lines = BadInputs.jsonCorpus();
    for (int i = 0; i < lines.size(); i++) {
      BadInputs.Line line = lines.get(i);
      Decoded decoded = json.decode(RawRecord.fromFile("corpus.jsonl", i + 1, line.bytes(),
          line.bytes().length));
      if (line.reason() == null) {
        assertThat(decoded).isInstanceOf(Decoded.Request.class);
        assertThat(((Decoded.Request) decoded).request().getId()).isEqualTo(line.requestId());
      } else {
        DeadLetter dead = rejected(decoded);
        assertThat(dead.getReason()).as(new String(line.bytes())).isEqualTo(line.reason());
        assertThat(dead.getRequestId()).isEqualTo(line.requestId());
        assertThat(dead.getSource()).isEqualTo(new FilePosition("corpus.jsonl", i + 1L));
        assertThat(dead.getOriginalSize()).isEqualTo(line.bytes().length);
        byte[] expected = Arrays.copyOf(line.bytes(),
            Math.min(line.bytes().length, BadInputs.MAX_RECORD_BYTES));
        assertThat(dead.getOriginal()).isEqualTo(ByteBuffer.wrap(expected));
      }
    }
  }

  @Test
  void readsOpenAiBatchLinesIntoChatRequests() {
    BadInputs.Line line = BadInputs.jsonCorpus().stream()
        .filter(l -> "good-openai".equals(l.requestId())).findFirst().orElseThrow();
    InferenceRequest request = ((Decoded.Request) json.decode(
        RawRecord.fromFile("f", 1, line.bytes(), line.bytes().length))).request();
    assertThat(request.getMessages()).hasSize(1);
    assertThat(request.getMessages().get(0).getContent()).isEqualTo("Hi");
    assertThat(request.getModel()).isEqualTo("tiny");
    assertThat(request.getSampling().getMaxTokens()).isEqualTo(8);
    assertThat(request.getSampling().getStop()).containsExactly("\n");
    assertThat(request.getMetadata()).containsEntry("openai_batch.url", "/v1/chat/completions");
  }

  @Test
  void avroRecordsDecodeAndBadBytesBecomeDeadLettersWithTheirReason() {
    InferenceRequest good = InferenceRequest.newBuilder().setId("a1").setPrompt("Hi").build();
    byte[] encoded = AvroMessages.encode(good);
    assertThat(((Decoded.Request) avro.decode(kafka(encoded))).request()).isEqualTo(good);

    byte[] random = new byte[64];
    new Random(7).nextBytes(random);
    assertThat(rejected(avro.decode(kafka(random))).getReason())
        .isEqualTo(DeadLetterReason.UNDECODABLE);

    byte[] unknownFingerprint = encoded.clone();
    unknownFingerprint[5] ^= 0x5A;
    assertThat(rejected(avro.decode(kafka(unknownFingerprint))).getReason())
        .isEqualTo(DeadLetterReason.UNKNOWN_SCHEMA);

    byte[] truncated = Arrays.copyOf(encoded, 12);
    assertThat(rejected(avro.decode(kafka(truncated))).getReason())
        .isEqualTo(DeadLetterReason.UNDECODABLE);

    DeadLetter tombstone = rejected(avro.decode(RawRecord.fromKafka("t", 1, 9, null)));
    assertThat(tombstone.getReason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(tombstone.getSource()).isEqualTo(new KafkaPosition("t", 1, 9L));

    InferenceRequest badSampling = InferenceRequest.newBuilder(good)
        .setSampling(SamplingParams.newBuilder().setTemperature(-1f).build()).build();
    DeadLetter dead = rejected(avro.decode(kafka(AvroMessages.encode(badSampling))));
    assertThat(dead.getReason()).isEqualTo(DeadLetterReason.INVALID_SAMPLING);
    assertThat(dead.getRequestId()).isEqualTo("a1");

    InferenceRequest noId = InferenceRequest.newBuilder(good).setId("").build();
    assertThat(rejected(avro.decode(kafka(AvroMessages.encode(noId)))).getReason())
        .isEqualTo(DeadLetterReason.MISSING_ID);

    InferenceRequest huge = InferenceRequest.newBuilder(good)
        .setPrompt("y".repeat(BadInputs.MAX_RECORD_BYTES)).build();
    DeadLetter oversized = rejected(avro.decode(kafka(AvroMessages.encode(huge))));
    assertThat(oversized.getReason()).isEqualTo(DeadLetterReason.OVERSIZED);
    assertThat(oversized.getOriginal().remaining()).isEqualTo(BadInputs.MAX_RECORD_BYTES);
    assertThat(oversized.getOriginalSize()).isGreaterThan(BadInputs.MAX_RECORD_BYTES);
  }

  @Test
  void jsonRequestsRoundTripThroughOurShape() {
    InferenceRequest request = InferenceRequest.newBuilder().setId("r").setPrompt("p")
        .setSampling(SamplingParams.newBuilder().setMaxTokens(3).setTemperature(0.5f)
            .setStop(List.of("x")).build())
        .setTenant("t").build();
    byte[] line = io.moeflink.connectors.codec.RequestJson.write(request);
    assertThat(((Decoded.Request) json.decode(RawRecord.fromFile("f", 1, line, line.length)))
        .request()).isEqualTo(request);
  }

  @Test
  void readsResponseFormatFromOurLinesAndOpenAiBatchBodies() {
    String format = "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"integer\"}}}";
    byte[] ours = ("{\"id\":\"a\",\"prompt\":\"p\",\"response_format\":" + format + "}").getBytes();
    byte[] batch = ("{\"custom_id\":\"b\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],"
        + "\"response_format\":" + format + "}}").getBytes();
    for (byte[] line : List.of(ours, batch)) {
      InferenceRequest request = ((Decoded.Request) json.decode(RawRecord.fromFile("f", 1, line, line.length))).request();
      assertThat(request.getResponseFormat()).isEqualTo(format);
      byte[] again = io.moeflink.connectors.codec.RequestJson.write(request);
      assertThat(((Decoded.Request) json.decode(RawRecord.fromFile("f", 1, again, again.length))).request()
          .getResponseFormat()).isEqualTo(format);
    }
    byte[] wrong = "{\"id\":\"c\",\"prompt\":\"p\",\"response_format\":3}".getBytes();
    assertThat(rejected(json.decode(RawRecord.fromFile("f", 1, wrong, wrong.length))).getMessage())
        .contains("response_format");
  }

  @Test
  void rawRecordsTravelAsFlinkPojosNotKryo() {
    assertThat(Contracts.rawRecords()).isInstanceOf(PojoTypeInfo.class);
  }

  @Test
  void builderRejectsANonPositiveRecordLimit() {
    assertThatThrownBy(() -> RequestDecoder.builder().maxRecordBytes(0).build())
        .hasMessageContaining("maxRecordBytes must be > 0");
  }

  private static RawRecord kafka(byte[] bytes) {
    return RawRecord.fromKafka("requests", 0, 5, bytes);
  }

  private static DeadLetter rejected(Decoded decoded) {
    assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
    return ((Decoded.Rejected) decoded).deadLetter();
  }
}
