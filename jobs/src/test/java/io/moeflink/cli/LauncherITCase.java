package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user runs after the README's build step: {@code bin/moe-flink} on the packaged jars of
 * {@code jobs/target/lib}, not the test classpath (which also holds test-scope jars, so a library
 * missing from the launcher's classpath would pass every other test), and the job jar for {@code
 * flink run}.
 */
class LauncherITCase {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @TempDir Path dir;

  @Test
  void generatesFromATextPromptThroughTheChatTemplateAndTokenizer() throws Exception {
    Path model = dir.resolve("tiny");
    Result made = launch("make-model", "--out", model.toString(), "--preset", "tiny");
    assertThat(made.code).as(made.output).isZero();

    Result generated = launch("generate", "--model", model.toString(), "--prompt", "Hello", "--max-new-tokens", "4");

    assertThat(generated.code).as(generated.output).isZero();
    assertThat(generated.output).containsPattern("\"tokens\":\\[\\d+(,\\d+){3}\\]").contains("\"text\":");
  }

  @Test
  void jobJarCarriesWhatTheChatTemplateLoadsAtRunTime() throws IOException {
    try (ZipFile jar = new ZipFile(ROOT.resolve("jobs/target/moe-flink-job.jar").toFile())) {
      assertThat(jar.getEntry("com/hubspot/jinjava/Jinjava.class")).isNotNull();
      assertThat(jar.getEntry("com/fasterxml/jackson/dataformat/yaml/YAMLMapper.class")).isNotNull();
      assertThat(jar.getEntry("org/yaml/snakeyaml/Yaml.class")).isNotNull();
      // The tokenizer is pure Java: no DJL and no tokenizers library that would pin the job's class
      // loader. (Kafka's compression codecs still bring zstd, lz4 and snappy natives, loaded only
      // for topics compressed with them.)
      assertThat(jar.stream().map(e -> e.getName()))
          .noneMatch(name -> name.startsWith("ai/djl/") || name.contains("tokenizers"))
          .contains("io/moeflink/engine/tokenizer/BpeTokenizer.class");
    }
  }

  @Test
  void answersMistakesWithOneLineAndExitCode2() throws Exception {
    String[][] mistakes = {
        {"generate", "--model", "/missing", "--prompt", "Hi"},
        {"run", "--model", "/missing", "--requests", "r", "--completions", "c", "--dead-letters", "d"},
        {"publish", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--input", "/missing.jsonl"},
        {"corpus", "--model", "/missing", "--input", "/missing.jsonl", "--output", dir.resolve("out").toString()},
        {"generate", "--bogus"}};
    for (String[] args : mistakes) {
      Result r = launch(args);
      // The JVM itself announces the incubator module on stderr; everything else is ours.
      List<String> lines = r.output.lines()
          .filter(l -> !l.isBlank() && !l.startsWith("WARNING: Using incubator modules")).toList();
      assertThat(r.code).as(String.join(" ", args) + ": " + r.output).isEqualTo(2);
      assertThat(lines).as(String.join(" ", args)).hasSize(1);
      assertThat(lines.get(0)).startsWith("moe-flink " + args[0] + ": ").doesNotContain("Exception");
    }
  }

  private Result launch(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/moe-flink").toString()));
    command.addAll(List.of(args));
    Path log = Files.createTempFile(dir, "launch", ".log");
    Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("bin/moe-flink " + String.join(" ", args) + " did not finish in 120 s");
    }
    return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  private record Result(int code, String output) {}
}
