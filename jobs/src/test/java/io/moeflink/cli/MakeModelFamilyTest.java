package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code make-model --family} then {@code generate}, through the real command line. */
class MakeModelFamilyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = MoeFlinkCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void writesAV2LiteCheckpointThatGeneratesAndSaysWhatItIs() throws Exception {
    Path dir = tmp.resolve("v2-lite");
    assertThat(run("make-model", "--out", dir.toString(), "--preset", "tiny", "--family", "v2-lite"))
        .as(err.toString()).isZero();
    assertThat(out.toString()).contains("make-model: tiny v2-lite bf16 seed 0");
    JsonNode config = JSON.readTree(dir.resolve("config.json").toFile());
    assertThat(config.get("model_type").asText()).isEqualTo("deepseek_v2");
    assertThat(dir.resolve("tokenizer.json")).as("DeepSeek-V3's tokenizer is not V2's").doesNotExist();
    out.getBuffer().setLength(0);
    assertThat(run("generate", "--model", dir.toString(), "--prompt-tokens", "0,5,7", "--max-new-tokens", "3"))
        .as(err.toString()).isZero();
    JsonNode result = JSON.readTree(out.toString());
    assertThat(result.get("model_family").asText()).isEqualTo("DeepSeek-V2-Lite");
    assertThat(result.get("tokens")).hasSize(3);
  }

  @Test
  void refusesAnUnknownFamilyAndV31WithoutFp8InOneLine() {
    assertThat(run("make-model", "--out", tmp.resolve("x").toString(), "--preset", "tiny", "--family", "v4")).isEqualTo(2);
    assertThat(err.toString()).contains("Unknown family 'v4', expected one of v3, v3.1, v3.2-exp").doesNotContain("Exception");
    err.getBuffer().setLength(0);
    assertThat(run("make-model", "--out", tmp.resolve("y").toString(), "--preset", "tiny", "--family", "v3.1")).isNotZero();
    assertThat(err.toString()).contains("use the fp8 format").doesNotContain("\tat ");
  }
}
