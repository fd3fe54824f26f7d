package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Smoke test of {@code moe-flink demo}: from nothing to every request answered. */
class DemoITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  @TempDir Path cache;

  @Test
  void answersEverySamplePromptFromAnEmptyCache() {
    StringWriter out = new StringWriter();
    CommandLine cli = MoeFlinkCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    int code = cli.execute("demo", "--cache", cache.toString(), "--timeout", "120");
    assertThat(out.toString()).contains("Creating the demo model").contains("All 6 requests answered");
    assertThat(out.toString().lines().filter(l -> l.startsWith("completion ")).count()).isEqualTo(5);
    assertThat(out.toString()).contains("dead letter demo-bad INVALID_SAMPLING");
    assertThat(code).isZero();
  }
}
