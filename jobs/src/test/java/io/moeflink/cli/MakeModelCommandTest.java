package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MakeModelCommandTest {

  @TempDir Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return new CommandLine(new MoeFlinkCli())
        .setOut(new PrintWriter(out))
        .setErr(new PrintWriter(err))
        .execute(args);
  }

  @Test
  void writesTheTinyPresetAndPrintsOneSummaryLine() {
    Path dir = tmp.resolve("tiny");
    int exit = run("make-model", "--out", dir.toString(), "--preset", "tiny", "--dtype", "fp8");

    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString().lines())
        .singleElement()
        .asString()
        .contains("tiny fp8 seed 0")
        .contains("16,971,632 parameters");
    assertThat(dir.resolve("model-00001-of-00001.safetensors")).isNotEmptyFile();
    assertThat(dir.resolve("model.safetensors.index.json")).isNotEmptyFile();
    assertThat(dir.resolve("config.json")).isNotEmptyFile();
    assertThat(dir.resolve("tokenizer.json")).isNotEmptyFile();
  }

  @Test
  void refusesANonEmptyDirectoryWithoutForce() throws IOException {
    Files.writeString(tmp.resolve("notes.txt"), "keep me");
    int exit = run("make-model", "--out", tmp.toString(), "--preset", "tiny");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("is not empty").contains("--force");
    assertThat(tmp.resolve("config.json")).doesNotExist();
  }

  @Test
  void replacesAnEarlierCheckpointWithForce() throws IOException {
    Path stale = tmp.resolve("model-00002-of-00002.safetensors");
    Files.writeString(stale, "stale shard");
    Files.writeString(tmp.resolve("notes.txt"), "keep me");
    int exit = run("make-model", "--out", tmp.toString(), "--preset", "tiny", "--force");

    assertThat(exit).as(err.toString()).isZero();
    assertThat(stale).doesNotExist();
    assertThat(tmp.resolve("notes.txt")).hasContent("keep me");
    assertThat(tmp.resolve("model-00001-of-00001.safetensors")).isNotEmptyFile();
  }

  @Test
  void refusesAnOutputPathThatIsAFile() throws IOException {
    Path file = Files.writeString(tmp.resolve("model"), "not a directory");
    int exit = run("make-model", "--out", file.toString(), "--preset", "tiny");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("exists and is not a directory");
  }

  @Test
  void rejectsAnUnknownPreset() {
    int exit = run("make-model", "--out", tmp.resolve("x").toString(), "--preset", "huge");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown model preset 'huge'");
  }
}
