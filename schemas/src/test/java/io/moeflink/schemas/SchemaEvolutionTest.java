package io.moeflink.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * A reader on the current contracts reads records written with the previous ones and vice versa.
 * The previous versions live in {@code src/test/resources/previous}.
 */
class SchemaEvolutionTest {

  @Test
  void currentReaderFillsDefaultsForRecordsWrittenWithThePreviousRequestSchema() throws IOException {
    Schema previous = previous("InferenceRequest");
    GenericRecord sampling =
        new GenericRecordBuilder(previous.getField("sampling").schema().getTypes().get(1))
            .set("max_tokens", 16)
            .set("temperature", 0.5f)
            .set("stop", List.of("\n"))
            .build();
    GenericRecord old =
        new GenericRecordBuilder(previous)
            .set("id", "r1")
            .set("prompt", "Hello")
            .set("sampling", sampling)
            .set("metadata", Map.of("k", "v"))
            .build();

    InferenceRequest read = readSpecific(write(old, previous), previous, InferenceRequest.class);

    assertThat(read.getId()).isEqualTo("r1");
    assertThat(read.getPrompt()).isEqualTo("Hello");
    assertThat(read.getSampling().getMaxTokens()).isEqualTo(16);
    assertThat(read.getSampling().getTopK()).isNull();
    assertThat(read.getSampling().getStopTokenIds()).isEmpty();
    assertThat(read.getPriority()).isZero();
    assertThat(read.getTenant()).isNull();
    assertThat(read.getPromptTokenIds()).isNull();
    assertThat(read.getMetadata()).containsEntry("k", "v");
    assertThat(read.getResponseFormat()).as("no structured output for old writers").isNull();
  }

  @Test
  void previousReaderIgnoresTheResponseFormat() throws IOException {
    InferenceRequest current =
        InferenceRequest.newBuilder()
            .setId("r3")
            .setPrompt("Name a city")
            .setResponseFormat("{\"type\": \"json_object\"}")
            .build();

    GenericRecord read =
        readGeneric(write(current, InferenceRequest.getClassSchema()), current.getSchema(),
            previous("InferenceRequest"));

    assertThat(read.get("prompt")).hasToString("Name a city");
    assertThat(read.getSchema().getField("response_format")).isNull();
    InferenceRequest back = readSpecific(write(current, InferenceRequest.getClassSchema()),
        InferenceRequest.getClassSchema(), InferenceRequest.class);
    assertThat(back.getResponseFormat()).isEqualTo("{\"type\": \"json_object\"}");
  }

  @Test
  void previousReaderIgnoresFieldsAddedToTheRequestSchema() throws IOException {
    InferenceRequest current =
        InferenceRequest.newBuilder()
            .setId("r2")
            .setPromptTokenIds(List.of(1, 2, 3))
            .setTenant("acme")
            .setPriority(7)
            .setSampling(SamplingParams.newBuilder().setTopK(40).setSeed(9L).build())
            .build();

    GenericRecord read =
        readGeneric(write(current, InferenceRequest.getClassSchema()), current.getSchema(),
            previous("InferenceRequest"));

    assertThat(read.get("id")).hasToString("r2");
    assertThat(read.get("prompt")).isNull();
    assertThat(((GenericRecord) read.get("sampling")).get("seed")).isEqualTo(9L);
    assertThat(read.getSchema().getField("tenant")).isNull();
  }

  @Test
  void completionsResolveBothWays() throws IOException {
    Schema previous = previous("Completion");
    GenericRecord old =
        new GenericRecordBuilder(previous)
            .set("id", "c1")
            .set("text", "hi")
            .set("finish_reason",
                new GenericData.EnumSymbol(previous.getField("finish_reason").schema(), "LENGTH"))
            .build();
    Completion read = readSpecific(write(old, previous), previous, Completion.class);
    assertThat(read.getFinishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(read.getTimings().getTotalMs()).isZero();
    assertThat(read.getError()).isNull();

    Completion current =
        Completion.newBuilder().setId("c2").setText("x").setFinishReason(FinishReason.ERROR)
            .setError("boom").setSeed(3L).build();
    GenericRecord back =
        readGeneric(write(current, Completion.getClassSchema()), current.getSchema(), previous);
    assertThat(back.get("finish_reason")).hasToString("ERROR");
    assertThat(back.getSchema().getField("error")).isNull();
  }

  @Test
  void thinkingAndReasoningResolveWithWritersAndReadersThatPredateThem() throws IOException {
    Schema requestBefore = without(InferenceRequest.getClassSchema(), "thinking");
    GenericRecord old = new GenericRecordBuilder(requestBefore).set("id", "r3").set("prompt", "Hi").build();
    assertThat(readSpecific(write(old, requestBefore), requestBefore, InferenceRequest.class).getThinking()).isNull();
    InferenceRequest thinking = InferenceRequest.newBuilder().setId("r4").setPrompt("Hi").setThinking(true).build();
    GenericRecord back = readGeneric(write(thinking, InferenceRequest.getClassSchema()), thinking.getSchema(),
        requestBefore);
    assertThat(back.get("id")).hasToString("r4");
    assertThat(back.getSchema().getField("thinking")).isNull();

    Schema completionBefore = without(Completion.getClassSchema(), "reasoning");
    GenericRecord oldCompletion = new GenericRecordBuilder(completionBefore).set("id", "c3").set("text", "4").build();
    assertThat(readSpecific(write(oldCompletion, completionBefore), completionBefore, Completion.class).getReasoning())
        .isNull();
    Completion reasoned = Completion.newBuilder().setId("c4").setText("4").setReasoning("2+2").build();
    GenericRecord oldReader = readGeneric(write(reasoned, Completion.getClassSchema()), reasoned.getSchema(),
        completionBefore);
    assertThat(oldReader.get("text")).hasToString("4");
  }

  /** {@code schema} as it was before {@code field} was added at its end. */
  private static Schema without(Schema schema, String field) {
    List<Schema.Field> fields = schema.getFields().stream().filter(f -> !f.name().equals(field))
        .map(f -> new Schema.Field(f, f.schema())).toList();
    return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
  }

  @Test
  void previousReaderMapsNewDeadLetterReasonsToItsDefault() throws IOException {
    DeadLetter current =
        DeadLetter.newBuilder()
            .setSource(new FilePosition("corpus.jsonl", 4L))
            .setOriginal(ByteBuffer.wrap(new byte[] {1, 2}))
            .setOriginalSize(2)
            .setReason(DeadLetterReason.PROMPT_TOO_LONG)
            .setMessage("too long")
            .setTimestamp(Instant.ofEpochMilli(1_000))
            .build();

    GenericRecord read =
        readGeneric(write(current, DeadLetter.getClassSchema()), current.getSchema(),
            previous("DeadLetter"));

    assertThat(read.get("reason")).hasToString("OTHER");
    assertThat(((GenericRecord) read.get("source")).get("line")).isEqualTo(4L);
  }

  @Test
  void singleObjectDecoderResolvesAPreviousWriterByFingerprintOnceItKnowsTheSchema()
      throws IOException {
    Schema previous = previous("InferenceRequest");
    GenericRecord old = new GenericRecordBuilder(previous).set("id", "r3").set("prompt", "p").build();
    ByteBuffer message = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), previous)
        .encode(old);

    BinaryMessageDecoder<InferenceRequest> withoutHistory = InferenceRequest.getDecoder();
    assertThatThrownBy(() -> withoutHistory.decode(message.duplicate()))
        .isInstanceOf(MissingSchemaException.class);

    SchemaStore.Cache store = new SchemaStore.Cache();
    store.addSchema(previous);
    assertThat(InferenceRequest.createDecoder(store).decode(message.duplicate()).getId())
        .isEqualTo("r3");
  }

  @Test
  void historyIndexParsesAndListsNoSchemaYet() {
    assertThat(SchemaHistory.olderVersions()).isEmpty();
  }

  private static Schema previous(String name) throws IOException {
    try (InputStream in =
        SchemaEvolutionTest.class.getResourceAsStream("/previous/" + name + ".avsc")) {
      return new Schema.Parser().parse(in);
    }
  }

  private static byte[] write(Object datum, Schema schema) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    if (datum instanceof SpecificRecord) {
      new SpecificDatumWriter<Object>(schema).write(datum, encoder);
    } else {
      new GenericDatumWriter<Object>(schema).write(datum, encoder);
    }
    encoder.flush();
    return bytes.toByteArray();
  }

  private static <T extends SpecificRecord> T readSpecific(
      byte[] bytes, Schema writer, Class<T> type) throws IOException {
    SpecificDatumReader<T> reader = new SpecificDatumReader<>(type);
    reader.setSchema(writer);
    return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
  }

  private static GenericRecord readGeneric(byte[] bytes, Schema writer, Schema reader)
      throws IOException {
    return new GenericDatumReader<GenericRecord>(writer, reader)
        .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
  }
}
