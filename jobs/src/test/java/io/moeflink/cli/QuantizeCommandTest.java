package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code make-model --dtype int4} and {@code quantize}, through the real command line. */
class QuantizeCommandTest {

  @TempDir static Path tmp;

  private static Path bf16;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void makeModel() {
    bf16 = tmp.resolve("bf16");
    assertThat(MoeFlinkCli.run("make-model", "--out", bf16.toString(), "--preset", "tiny")).isZero();
  }

  private int run(String... args) {
    CommandLine cli = MoeFlinkCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void quantizesToInt8ThatGeneratesText() throws IOException {
    Path int8 = tmp.resolve("int8");
    assertThat(run("quantize", "--in", bf16.toString(), "--out", int8.toString(), "--format", "int8")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("projections as 8-bit integers (per channel, symmetric)");
    JsonNode config = new ObjectMapper().readTree(int8.resolve("config.json").toFile());
    assertThat(config.path("quantization_config").path("quant_method").asText()).isEqualTo("compressed-tensors");
    assertThat(int8.resolve("tokenizer.json")).hasSameBinaryContentAs(bf16.resolve("tokenizer.json"));

    assertThat(run("generate", "--model", int8.toString(), "--prompt", "Hello", "--max-new-tokens", "4")).as(err.toString()).isZero();
  }

  @Test
  void makesAnAsymmetricInt4Model() {
    Path int4 = tmp.resolve("made-int4");
    assertThat(run("make-model", "--out", int4.toString(), "--preset", "tiny", "--dtype", "int4", "--asymmetric", "--group", "16"))
        .as(err.toString()).isZero();
    assertThat(out.toString()).contains("tiny int4 seed 0");
    assertThat(run("generate", "--model", int4.toString(), "--prompt-tokens", "0,5,7", "--max-new-tokens", "3")).as(err.toString()).isZero();
  }

  @Test
  void answersMistakesInOneLine() throws IOException {
    Path int4 = tmp.resolve("int4");
    assertThat(run("quantize", "--in", bf16.toString(), "--out", int4.toString(), "--format", "int4")).isZero();

    assertThat(run("quantize", "--in", int4.toString(), "--out", tmp.resolve("again").toString(), "--format", "int8")).isEqualTo(2);
    assertThat(run("quantize", "--in", bf16.toString(), "--out", tmp.resolve("g48").toString(), "--format", "int4", "--group", "48"))
        .isEqualTo(2);
    assertThat(run("quantize", "--in", bf16.toString(), "--out", int4.toString(), "--format", "int4")).isEqualTo(2);
    assertThat(run("quantize", "--in", bf16.toString(), "--out", tmp.resolve("x").toString(), "--format", "int2")).isEqualTo(2);
    assertThat(run("make-model", "--out", tmp.resolve("y").toString(), "--preset", "tiny", "--group", "32")).isEqualTo(2);
    assertThat(err.toString().lines()).hasSize(5).allSatisfy(line -> assertThat(line).startsWith("moe-flink "));
    assertThat(err.toString())
        .contains("already stored as integers")
        .contains("not a multiple of the group size 48")
        .contains("is not empty")
        .contains("expected int8 or int4")
        .contains("go with --dtype int8 or int4")
        .doesNotContain("Exception");
  }
}
