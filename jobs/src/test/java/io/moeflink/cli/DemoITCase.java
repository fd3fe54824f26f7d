package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Smoke test of {@code moe-flink demo}: every request answered by the trained demo model, in words. */
class DemoITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  @ParameterizedTest
  @ValueSource(strings = {"none", "mtp"})
  void answersEverySamplePromptWithTheDemoModel(String speculative) {
    StringWriter out = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    int code = cli.execute("demo", "--timeout", "120", "--speculative", speculative);
    assertThat(out.toString()).contains("models" + File.separator + "demo").contains("All 6 requests answered");
    assertThat(out.toString().lines().filter(l -> l.startsWith("completion ")).count()).isEqualTo(5);
    assertThat(out.toString()).contains("dead letter demo-bad INVALID_SAMPLING");
    String harbor = out.toString().lines().filter(l -> l.startsWith("completion demo-1 ")).findFirst().orElseThrow();
    String answer = harbor.substring(harbor.indexOf('"') + 1, harbor.lastIndexOf('"'));
    assertThat(answer.split("\\s+")).as("the answer to \"What does harbor mean?\": %s", answer)
        .filteredOn(w -> w.matches("\\p{Alpha}+\\p{Punct}?")).hasSizeGreaterThanOrEqualTo(3);
    assertThat(code).isZero();
  }

  @Test
  void aModelDirectoryWithoutConfigIsAUsageMistake(@TempDir Path empty) {
    StringWriter err = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("demo", "--model", empty.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("no config.json").doesNotContain("Exception");
  }
}
