package io.moeflink.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.cli.MoeFlinkCli;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.testing.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The dataflow benchmark on the tiny golden model: every configuration runs, the dataflow's tokens
 * equal the engine's, and the figures are reported. No timing is asserted.
 */
class DataflowBenchmarkITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final int REQUESTS = 3;
  private static final int MAX_TOKENS = 3;

  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void model() {
    model = TestModels.golden("bf16", tmp.resolve("bf16"));
  }

  @Test
  void dataflowTokensEqualTheEngineAloneInEveryConfiguration() throws Exception {
    // capacity 2 < 3 requests and a budget of 5 rows: admission waits and prefill is chunked
    DataflowBenchSettings settings =
        new DataflowBenchSettings(REQUESTS, 4, MAX_TOKENS, new SchedulerLimits(2, 5), BackendKind.AUTO, 1, List.of(1, 2), 2);
    DataflowBenchReport report = new DataflowBenchmark(model, settings).run();

    assertThat(report.configs()).extracting(ConfigFigures::name)
        .containsExactly("engine alone", "dataflow G=1 S=1", "dataflow G=1 S=2");
    assertThat(report.tokensEqual()).isTrue();
    for (ConfigFigures c : report.configs()) {
      assertThat(c.runs()).as("runs of %s", c.name()).hasSize(2);
      for (ConfigFigures.Run run : c.runs()) {
        assertThat(run.tokens()).as("tokens of %s", c.name()).isEqualTo(REQUESTS * MAX_TOKENS);
        assertThat(run.nanos()).as("timed window of %s", c.name()).isPositive();
        assertThat(run.tokensById()).as("requests of %s", c.name())
            .containsOnlyKeys("bench-0", "bench-1", "bench-2")
            .allSatisfy((id, tokens) -> assertThat(tokens).hasSize(MAX_TOKENS));
      }
      assertThat(c.medianTokensPerSecond()).isPositive();
    }
    assertThat(report.ratioOfMedians(report.engine())).isEqualTo(1.0);
    assertThat(report.table())
        .contains("engine alone", "dataflow G=1 S=1", "dataflow G=1 S=2", "tokens/s", "ratio", "paired")
        .doesNotContain("DIFFERENT");
  }

  @Test
  void commandPrintsTheTableAndWritesTheFiguresAsJson() throws Exception {
    Path json = tmp.resolve("bench.json");
    StringWriter out = new StringWriter();
    int exit = new CommandLine(new MoeFlinkCli()).setOut(new PrintWriter(out)).execute(
        "bench-dataflow", "--model", model.toString(), "--requests", "2", "--prompt-tokens", "3", "--max-tokens", "2",
        "--threads", "1", "--shards", "1", "--repeats", "1", "--json", json.toString());

    assertThat(exit).isZero();
    assertThat(out.toString()).contains("engine alone", "dataflow G=1 S=1", "equal");
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.get("tokens_equal").asBoolean()).isTrue();
    assertThat(root.get("configs")).hasSize(2);
    for (JsonNode c : root.get("configs")) {
      assertThat(c.get("median_tokens_per_second").asDouble()).isPositive();
      assertThat(c.get("runs").get(0).get("tokens").asLong()).isEqualTo(4);
    }
  }
}
