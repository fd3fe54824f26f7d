package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.cli.MoeFlinkCli;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.moeflink.workbench.bench.StructuredSchemas;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The corpus job end to end on a MiniCluster: JSONL (ours and OpenAI batch) and Avro, bad lines, resume. */
class CorpusJobITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());

  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path shared;
  private static Path model;
  @TempDir Path dir;

  @BeforeAll
  static void model() throws IOException {
    model = shared.resolve("tiny");
    ModelGenerator.builder(ModelPreset.TINY.shape()).seed(5).build().writeTo(model);
  }

  private CorpusJobOptions options(String input, String format, String... extra) {
    CorpusJobOptions o = new CorpusJobOptions();
    List<String> args = new ArrayList<>(List.of("--input", input, "--output", dir.resolve("out").toString(), "--format", format,
        "--model", model.toString(), "--parallelism", "2", "--expert-shards", "2", "--checkpoint-interval", "300"));
    args.addAll(List.of(extra));
    new CommandLine(o).parseArgs(args.toArray(new String[0]));
    return o;
  }

  private void run(CorpusJobOptions o) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(o.generation));
    CorpusJob.build(env, o, "test");
    env.execute("corpus");
  }

  private static List<JsonNode> lines(Path directory, String prefix) throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      List<Path> parts = files.filter(p -> p.getFileName().toString().startsWith(prefix))
          .sorted(Comparator.comparing(CorpusJobITCase::partStem).thenComparingInt(CorpusJobITCase::partIndex)).toList();
      for (Path f : parts) { // in the order each subtask wrote them
        for (String line : Files.readAllLines(f)) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
    }
    return out;
  }

  @Test
  void answersOurJsonlAndTurnsBadLinesIntoDeadLetters() throws Exception {
    Path input = dir.resolve("requests.jsonl");
    Files.writeString(input, String.join("\n",
        "{\"id\":\"a\",\"prompt\":\"Hello there\",\"sampling\":{\"max_tokens\":5}}",
        "{\"id\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"sampling\":{\"max_tokens\":4,\"temperature\":0.9,\"seed\":3}}",
        "{\"id\":\"c\",\"prompt_token_ids\":[0,5,6,7],\"sampling\":{\"max_tokens\":3}}",
        "this is not json",
        "{\"id\":\"d\",\"prompt\":\"x\",\"sampling\":{\"top_p\":1.5}}",
        "{\"prompt\":\"no id\"}") + "\n");
    run(options(input.toString(), "ours"));
    List<JsonNode> completions = lines(dir.resolve("out"), "completions");
    assertThat(completions).extracting(c -> c.get("id").asText()).containsExactlyInAnyOrder("a", "b", "c");
    for (JsonNode c : completions) {
      assertThat(c.get("token_ids").size()).isPositive();
    }
    List<JsonNode> dead = lines(dir.resolve("out").resolve("dead-letters"), "dead-letters");
    assertThat(dead).hasSize(3);
  }

  /**
   * Priorities across files: with {@code --routing prefix} the generation subtask keeps the full
   * waiting queue, so an urgent file's requests, read after a bulk file's, are generated before the
   * bulk requests still waiting (one sequence slot, so the completion order is the admission order).
   */
  @Test
  void anUrgentFileOvertakesTheBulkOneReadBeforeIt() throws Exception {
    Path input = Files.createDirectories(dir.resolve("in"));
    List<String> bulk = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      bulk.add("{\"id\":\"bulk-" + i + "\",\"prompt_token_ids\":[0," + (5 + i) + ",7],\"sampling\":{\"max_tokens\":6}}");
    }
    Files.writeString(input.resolve("a-bulk.jsonl"), String.join("\n", bulk) + "\n");
    Files.writeString(input.resolve("b-urgent.jsonl"), String.join("\n",
        "{\"id\":\"urgent-0\",\"prompt_token_ids\":[0,3,4],\"priority\":10,\"sampling\":{\"max_tokens\":6}}",
        "{\"id\":\"urgent-1\",\"prompt_token_ids\":[0,3,5],\"priority\":10,\"sampling\":{\"max_tokens\":6}}") + "\n");
    CorpusJobOptions o = options(input.toString(), "ours", "--routing", "prefix", "--max-sequences", "1");
    o.generation.parallelism = 1;
    run(o);
    List<String> order = lines(dir.resolve("out"), "completions").stream().map(c -> c.get("id").asText()).toList();
    assertThat(order).hasSize(42);
    // read last, generated within the first few: only the bulk requests admitted before them go first
    assertThat(order.indexOf("urgent-0")).isLessThan(10);
    assertThat(order.indexOf("urgent-1")).isLessThan(10);
  }

  /** A part file's name up to its counter ({@code completions-<uuid>}): one writing subtask. */
  private static String partStem(Path part) {
    String name = part.getFileName().toString();
    return name.substring(0, name.lastIndexOf('-'));
  }

  /** The counter at the end of a part file's name ({@code completions-<uuid>-<n>.jsonl}). */
  private static int partIndex(Path part) {
    String name = part.getFileName().toString();
    return Integer.parseInt(name.substring(name.lastIndexOf('-') + 1, name.lastIndexOf('.')));
  }

  /**
   * Structured output through the job: 200 requests over 10 schemas (ours and OpenAI batch lines,
   * greedy and sampled) all answer with JSON that the schema validates; an unsupported keyword and
   * a malformed response_format get error completions that say why.
   */
  @Test
  void answersEveryResponseFormatWithJsonThatValidates() throws Exception {
    List<String> formats = StructuredSchemas.RESPONSE_FORMATS;
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String sampling = "\"max_tokens\":" + (40 + i % 25) + (i % 2 == 0 ? "" : ",\"temperature\":0.9,\"seed\":" + i);
      lines.add("{\"id\":\"s" + i + "\",\"prompt\":\"Record " + i + " as JSON:\",\"sampling\":{" + sampling
          + "},\"response_format\":" + formats.get(i % formats.size()) + "}");
    }
    lines.add("{\"id\":\"bad-pattern\",\"prompt\":\"x\",\"response_format\":{\"type\":\"json_schema\","
        + "\"json_schema\":{\"schema\":{\"type\":\"string\",\"pattern\":\"^a+$\"}}}}");
    lines.add("{\"id\":\"bad-json\",\"prompt\":\"x\",\"response_format\":\"{\\\"type\\\": \"}");
    Path input = dir.resolve("structured.jsonl");
    Files.writeString(input, String.join("\n", lines) + "\n");
    run(options(input.toString(), "ours"));

    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    List<JsonNode> completions = lines(dir.resolve("out"), "completions");
    assertThat(completions).hasSize(202);
    for (JsonNode c : completions) {
      String id = c.get("id").asText();
      if (id.startsWith("bad-")) {
        assertThat(c.get("finish_reason").asText()).isEqualToIgnoringCase("error");
        assertThat(c.get("error").asText()).contains(id.equals("bad-pattern") ? "'pattern'" : "not valid JSON");
        continue;
      }
      String text = c.get("text").asText();
      String format = formats.get(Integer.parseInt(id.substring(1)) % formats.size());
      assertThat(JSON.readTree(text)).as("%s parses: %s", id, text).isNotNull();
      assertThat(registry.getSchema(StructuredSchemas.schemaOf(format)).validate(text, InputFormat.JSON))
          .as("%s validates: %s", id, text).isEmpty();
    }
  }

  @Test
  void answersAnOpenAiBatchFileInTheOpenAiBatchOutputFormat() throws Exception {
    Path input = dir.resolve("batch.jsonl");
    Files.writeString(input, IntStream.range(0, 5).mapToObj(i -> "{\"custom_id\":\"q" + i
        + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"Question " + i + "\"}],\"max_tokens\":6}}").collect(Collectors.joining("\n")) + "\n");
    run(options(input.toString(), "openai-batch"));
    List<JsonNode> out = lines(dir.resolve("out"), "completions");
    assertThat(out).extracting(l -> l.get("custom_id").asText()).containsExactlyInAnyOrder("q0", "q1", "q2", "q3", "q4");
    for (JsonNode line : out) {
      assertThat(line.get("response").get("status_code").asInt()).isEqualTo(200);
      assertThat(line.get("response").get("body").get("usage").get("completion_tokens").asInt()).isBetween(1, 6);
    }
  }

  @Test
  void answersAvroRequestsWithAvroCompletions() throws Exception {
    Path input = dir.resolve("requests.avro");
    try (DataFileWriter<InferenceRequest> w = new DataFileWriter<>(new SpecificDatumWriter<>(InferenceRequest.class))) {
      w.create(InferenceRequest.getClassSchema(), input.toFile());
      for (int i = 0; i < 4; i++) {
        w.append(InferenceRequest.newBuilder().setId("avro-" + i).setPrompt("Avro prompt " + i)
            .setSampling(SamplingParams.newBuilder().setMaxTokens(3).build()).build());
      }
    }
    run(options(input.toString(), "avro"));
    List<String> ids = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir.resolve("out"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("completions")).toList()) {
        try (DataFileReader<Completion> r = new DataFileReader<>(f.toFile(), new SpecificDatumReader<>(Completion.class))) {
          r.forEach(c -> ids.add(c.getId()));
        }
      }
    }
    assertThat(ids).containsExactlyInAnyOrder("avro-0", "avro-1", "avro-2", "avro-3");
  }

  @Test
  void resumesACrashedRunWithoutRedoingFinishedRecords() throws Exception {
    Path input = dir.resolve("big.jsonl");
    int n = 60;
    Files.writeString(input, IntStream.range(0, n).mapToObj(i -> "{\"id\":\"r" + i + "\",\"prompt_token_ids\":[0," + (10 + i)
        + ",7],\"sampling\":{\"max_tokens\":" + (12 + i % 17) + "}}").collect(Collectors.joining("\n")) + "\n");
    Path checkpoints = dir.resolve("checkpoints");
    CorpusJobOptions first = options(input.toString(), "ours", "--checkpoint-dir", checkpoints.toUri().toString());
    first.generation.maxSequences = 1; // slow enough to stop it half way
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(first.generation));
    CorpusJob.build(env, first, "crash");
    var job = env.executeAsync("corpus to crash");
    long deadline = System.currentTimeMillis() + 60_000;
    while (lines(dir.resolve("out"), "completions").size() < 5 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    job.cancel().get(); // the "crash": checkpoints are retained on cancellation
    int before = lines(dir.resolve("out"), "completions").size();
    assertThat(before).as("committed before the crash").isBetween(5, n - 1);

    StringWriter out = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(new StringWriter()));
    int code = cli.execute("corpus", "--input", input.toString(), "--output", dir.resolve("out").toString(),
        "--model", model.toString(), "--parallelism", "2", "--expert-shards", "2", "--checkpoint-interval", "300",
        "--checkpoint-dir", checkpoints.toUri().toString(), "--resume");
    assertThat(code).isZero();
    List<String> ids = lines(dir.resolve("out"), "completions").stream().map(c -> c.get("id").asText()).toList();
    assertThat(ids).doesNotHaveDuplicates().hasSize(n);
    assertThat(out.toString()).contains("corpus: ").contains("records of " + n);
  }

  private static String requests(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> "{\"id\":\"q" + i + "\",\"prompt_token_ids\":[0," + (20 + i)
        + ",7],\"sampling\":{\"max_tokens\":3}}").collect(Collectors.joining("\n")) + "\n";
  }

  /** The corpus command through the CLI: exit code and stderr. */
  private record Cli(int code, String err) {}

  private Cli corpus(String input, String... extra) {
    List<String> args = new ArrayList<>(List.of("corpus", "--input", input, "--output", dir.resolve("out").toString(),
        "--model", model.toString(), "--parallelism", "2", "--expert-shards", "2", "--checkpoint-interval", "300"));
    args.addAll(List.of(extra));
    StringWriter err = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setOut(new PrintWriter(new StringWriter()));
    cli.setErr(new PrintWriter(err, true));
    return new Cli(cli.execute(args.toArray(String[]::new)), err.toString());
  }

  private java.util.Map<String, String> outputFiles() throws IOException {
    java.util.Map<String, String> files = new java.util.TreeMap<>();
    try (Stream<Path> all = Files.walk(dir.resolve("out"))) {
      for (Path f : all.filter(Files::isRegularFile).toList()) {
        files.put(dir.resolve("out").relativize(f).toString(), Files.readString(f));
      }
    }
    return files;
  }

  @Test
  void refusesARunIntoAnOutputDirectoryThatHoldsAnotherRunsCompletions() throws Exception {
    Path input = Files.writeString(dir.resolve("in.jsonl"), requests(0, 3));
    assertThat(corpus(input.toString()).code()).isZero();
    var before = outputFiles();

    Cli again = corpus(input.toString());

    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err().lines().filter(l -> !l.isBlank()).toList()).singleElement().asString()
        .startsWith("moe-flink corpus: --output " + dir.resolve("out") + " already holds 3 completions of another run (finished);")
        .contains("--resume");
    assertThat(outputFiles()).isEqualTo(before);
  }

  @Test
  void resumeOfAFinishedRunSaysSoAndWritesNothing() throws Exception {
    Path input = Files.writeString(dir.resolve("in.jsonl"), requests(0, 3));
    Path checkpoints = dir.resolve("checkpoints");
    assertThat(corpus(input.toString(), "--checkpoint-dir", checkpoints.toString()).code()).isZero();
    var before = outputFiles();

    Cli resumed = corpus(input.toString(), "--checkpoint-dir", checkpoints.toString(), "--resume");

    assertThat(resumed.code()).isZero();
    assertThat(resumed.err()).contains("already finished (3 completions); nothing to do");
    assertThat(outputFiles()).isEqualTo(before);
  }

  @Test
  void resumeWithoutACheckpointSkipsTheIdsAlreadyCommitted() throws Exception {
    // A run that committed q0..q2 and died before finishing, leaving no checkpoint to restore.
    Path firstHalf = Files.writeString(dir.resolve("half.jsonl"), requests(0, 3));
    assertThat(corpus(firstHalf.toString()).code()).isZero();
    Files.delete(dir.resolve("out").resolve(CorpusOutput.FINISHED_MARKER));
    var committedBefore = outputFiles();

    Path whole = Files.writeString(dir.resolve("whole.jsonl"), requests(0, 6));
    Cli resumed = corpus(whole.toString(), "--checkpoint-dir", dir.resolve("no-checkpoints").toString(), "--resume");

    assertThat(resumed.code()).as(resumed.err()).isZero();
    List<String> ids = lines(dir.resolve("out"), "completions").stream().map(c -> c.get("id").asText()).toList();
    assertThat(ids).containsExactlyInAnyOrder("q0", "q1", "q2", "q3", "q4", "q5");
    assertThat(outputFiles()).containsAllEntriesOf(committedBefore); // the earlier files untouched
  }
}
