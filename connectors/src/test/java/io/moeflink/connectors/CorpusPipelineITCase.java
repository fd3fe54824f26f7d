package io.moeflink.connectors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.connectors.files.CompletionFileFormat;
import io.moeflink.connectors.files.CorpusFiles;
import io.moeflink.connectors.files.CorpusFormat;
import io.moeflink.schemas.InferenceRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Corpus files in, completion and dead-letter part files out. */
class CorpusPipelineITCase {

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER = TestMiniCluster.withTwoSlots();

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void answersAnOpenAiBatchFileInTheOpenAiBatchOutputFormat() throws Exception {
    Path input = dir.resolve("batch.jsonl");
    Files.writeString(input, String.join("\n",
        openAiLine("q1", "What is MoE?"),
        openAiLine("q2", "Name an expert."),
        "{\"custom_id\":\"q3\",\"method\":\"POST\",\"url\":\"/v1/completions\","
            + "\"body\":{\"model\":\"tiny\",\"prompt\":\"Once upon\",\"max_tokens\":4}}")
        + "\n");

    run(CorpusFormat.JSONL, CompletionFileFormat.OPENAI_BATCH, input.toString());

    List<JsonNode> lines = readParts("completions");
    assertThat(lines).extracting(l -> l.get("custom_id").asText())
        .containsExactlyInAnyOrder("q1", "q2", "q3");
    for (JsonNode line : lines) {
      JsonNode body = line.get("response").get("body");
      assertThat(line.get("response").get("status_code").asInt()).isEqualTo(200);
      assertThat(body.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
      assertThat(body.get("usage").get("total_tokens").asInt()).isPositive();
      switch (line.get("custom_id").asText()) {
        case "q1" -> assertThat(content(body)).isEqualTo("What is MoE?");
        case "q2" -> assertThat(content(body)).isEqualTo("Name an expert.");
        default -> {
          assertThat(body.get("object").asText()).isEqualTo("text_completion");
          assertThat(body.get("choices").get(0).get("text").asText()).isEqualTo("Once upon");
        }
      }
    }
    assertThat(readParts("dead-letters")).isEmpty();
  }

  @Test
  void turnsEveryBadLineIntoOneDeadLetterWhileGoodLinesComplete() throws Exception {
    List<BadInputs.Line> corpus = BadInputs.jsonCorpus();
    Path inputs = Files.createDirectories(dir.resolve("corpus"));
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    List<Long> lineNumbers = new ArrayList<>();
    long line = 0;
    for (BadInputs.Line entry : corpus) {
      file.write("   \n".getBytes(StandardCharsets.UTF_8)); // blank lines are skipped
      file.write(entry.bytes());
      file.write('\n');
      line += 2;
      lineNumbers.add(line);
    }
    Files.write(inputs.resolve("a.jsonl"), file.toByteArray());
    Files.writeString(inputs.resolve("b.jsonl"), "{\"id\":\"b-1\",\"prompt\":\"from b\"}\r\n");

    run(CorpusFormat.JSONL, CompletionFileFormat.JSONL, inputs.toString());

    List<String> expectedIds = new ArrayList<>(List.of("b-1"));
    corpus.stream().filter(l -> l.reason() == null).forEach(l -> expectedIds.add(l.requestId()));
    assertThat(readParts("completions")).extracting(c -> c.get("id").asText())
        .containsExactlyInAnyOrderElementsOf(expectedIds);

    List<JsonNode> dead = readParts("dead-letters");
    List<String> expected = new ArrayList<>();
    List<String> actual = new ArrayList<>();
    for (int i = 0; i < corpus.size(); i++) {
      BadInputs.Line entry = corpus.get(i);
      if (entry.reason() != null) {
        expected.add(lineNumbers.get(i) + " " + entry.reason() + " " + entry.requestId());
      }
    }
    for (JsonNode letter : dead) {
      assertThat(letter.get("source").get("file").asText()).endsWith("a.jsonl");
      long at = letter.get("source").get("line").asLong();
      BadInputs.Line entry = corpus.get(lineNumbers.indexOf(at));
      byte[] original = Base64.getDecoder().decode(letter.get("original_base64").asText());
      assertThat(original).as("original bytes of line %d", at).isEqualTo(
          java.util.Arrays.copyOf(entry.bytes(),
              Math.min(entry.bytes().length, BadInputs.MAX_RECORD_BYTES)));
      assertThat(letter.get("original_size").asLong()).isEqualTo(entry.bytes().length);
      JsonNode id = letter.get("request_id");
      actual.add(at + " " + letter.get("reason").asText() + " " + (id.isNull() ? null : id.asText()));
    }
    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void readsAvroCorpusFilesWrittenWithThisAndThePreviousSchema() throws Exception {
    Path inputs = Files.createDirectories(dir.resolve("avro"));
    try (DataFileWriter<InferenceRequest> writer =
        new DataFileWriter<>(new SpecificDatumWriter<>(InferenceRequest.class))) {
      writer.create(InferenceRequest.getClassSchema(), inputs.resolve("current.avro").toFile());
      writer.append(InferenceRequest.newBuilder().setId("cur-1").setPrompt("one").build());
      writer.append(InferenceRequest.newBuilder().setId("cur-2").setPrompt("").build());
    }
    Schema previous;
    try (InputStream in = getClass().getResourceAsStream("/previous/InferenceRequest.avsc")) {
      previous = new Schema.Parser().parse(in);
    }
    try (DataFileWriter<GenericRecord> writer =
        new DataFileWriter<>(new GenericDatumWriter<>(previous))) {
      writer.create(previous, inputs.resolve("previous.avro").toFile());
      writer.append(new GenericRecordBuilder(previous).set("id", "old-1").set("prompt", "two")
          .build());
    }
    Files.write(inputs.resolve("corrupt.avro"), "Obj\u0001 not really avro".getBytes(
        StandardCharsets.ISO_8859_1));

    run(CorpusFormat.AVRO, CompletionFileFormat.JSONL, inputs.toString());

    assertThat(readParts("completions")).extracting(c -> c.get("text").asText())
        .containsExactlyInAnyOrder("one", "two");
    assertThat(readParts("dead-letters"))
        .extracting(d -> d.get("source").get("file").asText().replaceAll(".*/", "") + " "
            + d.get("reason").asText())
        .containsExactlyInAnyOrder("current.avro NO_PROMPT", "corrupt.avro UNDECODABLE");
  }

  private void run(CorpusFormat format, CompletionFileFormat output, String input)
      throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    env.enableCheckpointing(200);
    RequestDecoder decoder =
        CorpusFiles.decoder(format).maxRecordBytes(BadInputs.MAX_RECORD_BYTES).build();
    DecodedRequests decoded = DecodedRequests.decode(
        env.fromSource(CorpusFiles.source(format, decoder, input),
            WatermarkStrategy.noWatermarks(), "corpus"),
        decoder);
    decoded.requests().map(new EchoCompletion(), Contracts.completions())
        .sinkTo(CorpusFiles.completionSink(dir.resolve("out").toString(), output));
    decoded.deadLetters().sinkTo(CorpusFiles.deadLetterSink(dir.resolve("dlq").toString()));
    env.execute("corpus " + input);
  }

  /** Lines of the committed part files (not in-progress ones) named {@code prefix-*}. */
  private List<JsonNode> readParts(String prefix) throws IOException {
    Path out = dir.resolve(prefix.equals("completions") ? "out" : "dlq");
    List<JsonNode> lines = new ArrayList<>();
    if (!Files.isDirectory(out)) {
      return lines;
    }
    try (Stream<Path> files = Files.list(out)) {
      for (Path part : files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
        for (String line : Files.readAllLines(part)) {
          lines.add(JSON.readTree(line));
        }
      }
    }
    return lines;
  }

  private static String content(JsonNode body) {
    return body.get("choices").get(0).get("message").get("content").asText();
  }

  private static String openAiLine(String id, String question) {
    return "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        + "\"body\":{\"model\":\"tiny\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        + "{\"role\":\"user\",\"content\":\"" + question + "\"}],\"max_tokens\":16}}";
  }
}
