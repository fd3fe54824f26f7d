package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Ordinary mistakes, each run through the CLI in process: one line on stderr that says what is
 * wrong and what to do, exit code 2, no stack trace (the Kafka ones are in {@link
 * PublishConsumeTest}). Every case runs before any job, model or broker would start.
 */
class CliMistakesTest {

  @TempDir static Path shared;
  /** A directory with a real config.json (16 experts, 3 layers) and nothing else: enough for the checks. */
  private static Path model;
  @TempDir Path dir;

  @BeforeAll
  static void configOnlyModel() throws IOException {
    model = Files.createDirectories(shared.resolve("config-only"));
    try (InputStream in = CliMistakesTest.class.getResourceAsStream("/golden/tiny-v3/bf16/config.json")) {
      Files.copy(in, model.resolve("config.json"));
    }
  }

  @Test
  void generateWithAMissingModel() {
    assertOneLine("moe-flink generate: --model /missing: no such directory; give a checkpoint directory",
        "generate", "--model", "/missing", "--prompt", "Hi");
  }

  @Test
  void generateWithANegativeTemperature() {
    assertOneLine("moe-flink generate: --temperature: must be finite and >= 0 (0 = greedy), got -3.0",
        "generate", "--model", model.toString(), "--prompt-tokens", "0,1", "--temperature", "-3");
  }

  @Test
  void corpusResumeWithoutCheckpointDir() throws IOException {
    Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"id\":\"a\",\"prompt\":\"x\"}\n");
    assertOneLine("moe-flink corpus: --resume needs --checkpoint-dir DIR",
        "corpus", "--model", model.toString(), "--input", input.toString(), "--output", dir.resolve("out").toString(), "--resume");
  }

  @Test
  void corpusWithAMissingInputFile() {
    assertOneLine("moe-flink corpus: --input /missing/requests.jsonl: no such file, directory or glob match",
        "corpus", "--model", model.toString(), "--input", "/missing/requests.jsonl", "--output", dir.resolve("out").toString());
  }

  @Test
  void corpusWithAnUnknownOutputFormat() throws IOException {
    Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"id\":\"a\",\"prompt\":\"x\"}\n");
    assertOneLine("moe-flink corpus: --format xml is not an output format; give ours, openai-batch or avro",
        "corpus", "--model", model.toString(), "--input", input.toString(), "--output", dir.resolve("out").toString(), "--format", "xml");
  }

  @Test
  void runWithoutBrokers() {
    assertOneLine("moe-flink run: No Kafka brokers: pass --bootstrap HOST:PORT",
        "run", "--model", model.toString(), "--requests", "r", "--completions", "c", "--dead-letters", "d");
  }

  @Test
  void runWithANonsensePlacementFailsBeforeTheJobStarts() {
    // 127.0.0.1:1 has no broker: reaching the job would hang on it, not fail with this line.
    assertOneLine("moe-flink run: --placement \"nonsense\" is not a placement for 2 expert shards",
        "run", "--bootstrap", "127.0.0.1:1", "--model", model.toString(), "--requests", "r", "--completions", "c",
        "--dead-letters", "d", "--expert-shards", "2", "--placement", "nonsense");
  }

  @Test
  void runWithAnUnknownBackend() {
    assertOneLine("moe-flink run: Invalid value for option '--backend': Unknown backend 'gpu9', expected one of auto, vector, scalar, cuda",
        "run", "--bootstrap", "127.0.0.1:1", "--model", model.toString(), "--requests", "r", "--completions", "c",
        "--dead-letters", "d", "--backend", "gpu9");
  }

  @Test
  void runWithAWordForANumber() {
    assertOneLine("moe-flink run: Invalid value for option '--parallelism': 'two' is not an int",
        "run", "--bootstrap", "127.0.0.1:1", "--model", model.toString(), "--requests", "r", "--completions", "c",
        "--dead-letters", "d", "--parallelism", "two");
  }

  @Test
  void runWithoutARequiredOption() {
    assertOneLine("moe-flink run: Missing required option: '--model=<model>'",
        "run", "--bootstrap", "127.0.0.1:1", "--requests", "r", "--completions", "c", "--dead-letters", "d");
  }

  @Test
  void publishOfAMissingFile() {
    assertOneLine("moe-flink publish: --input /missing.jsonl: no such file; give a JSONL file of requests",
        "publish", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--input", "/missing.jsonl");
  }

  @Test
  void publishInAnUnknownFormat() throws IOException {
    Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"id\":\"a\",\"prompt\":\"x\"}\n");
    assertOneLine("moe-flink publish: --format xml is not a request encoding; give avro or json",
        "publish", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--input", input.toString(), "--format", "xml");
  }

  @Test
  void benchWithAMissingModel() {
    assertOneLine("moe-flink bench: --model /missing: no such directory", "bench", "--model", "/missing");
  }

  @Test
  void anUnknownOption() {
    assertOneLine("moe-flink generate: Unknown option: '--no-such-option'",
        "generate", "--model", "/missing", "--prompt", "Hi", "--no-such-option");
  }

  @Test
  void verboseAddsTheStackTrace() {
    Run run = run("generate", "--model", "/missing", "--prompt", "Hi", "--verbose");
    assertThat(run.code).isEqualTo(2);
    assertThat(run.err).startsWith("moe-flink generate: --model /missing: no such directory")
        .contains("io.moeflink.jobs.UsageException", "\tat ");
  }

  static void assertOneLine(String expectedStart, String... args) {
    Run run = run(args);
    List<String> lines = new ArrayList<>(run.err.lines().filter(l -> !l.isBlank()).toList());
    assertThat(run.code).as("exit code of %s; stderr: %s", String.join(" ", args), run.err).isEqualTo(2);
    assertThat(lines).as("stderr of %s", String.join(" ", args)).hasSize(1);
    assertThat(lines.get(0)).startsWith(expectedStart).doesNotContain("Exception", "\tat ");
    System.out.println(String.join(" ", args) + "\n  -> " + lines.get(0));
  }

  static Run run(String... args) {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    int code = cli.execute(args);
    return new Run(code, err.toString());
  }

  record Run(int code, String err) {}
}
