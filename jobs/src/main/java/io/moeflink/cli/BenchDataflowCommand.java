package io.moeflink.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.jobs.bench.DataflowBenchReport;
import io.moeflink.jobs.bench.DataflowBenchSettings;
import io.moeflink.jobs.bench.DataflowBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink bench-dataflow}: output tokens/s of the same requests through the engine alone
 * and through the expert-parallel dataflow on a local MiniCluster (G=1 with each number of expert
 * shards), and their ratio. The measuring lives in {@link DataflowBenchmark}; this class parses and
 * prints. Exits with 1 when a dataflow run's tokens differ from the engine's.
 */
@Command(name = "bench-dataflow", mixinStandardHelpOptions = true,
    description = "Compare output tokens/s of the expert-parallel dataflow (local MiniCluster) with the engine alone.")
final class BenchDataflowCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin BenchModelOptions models;

  @Option(names = "--threads", description = "Kernel threads of the engine and of each operator instance (default: available processors).")
  Integer threads;

  @Option(names = "--requests", defaultValue = "16", description = "Timed requests per run (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--prompt-tokens", defaultValue = "16", description = "Prompt length of every request (default ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(names = "--max-tokens", defaultValue = "32", description = "Output tokens of every request (default ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(names = "--max-sequences", defaultValue = "16", description = "Sequences in flight (default ${DEFAULT-VALUE}).")
  int maxSequences;

  @Option(names = "--token-budget", defaultValue = "256", description = "Token rows per forward pass (default ${DEFAULT-VALUE}).")
  int tokenBudget;

  @Option(names = "--shards", split = ",", defaultValue = "1,2", description = "Expert shards of the dataflow runs, G=1 (default ${DEFAULT-VALUE}).")
  int[] shards;

  @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of every configuration (default ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--json", description = "Also write the results as JSON to this file.")
  Path json;

  @Override
  public Integer call() throws Exception {
    DataflowBenchSettings settings = new DataflowBenchSettings(requests, promptTokens, maxTokens,
        new SchedulerLimits(maxSequences, tokenBudget), models.backend,
        threads != null ? threads : Runtime.getRuntime().availableProcessors(),
        Arrays.stream(shards).boxed().toList(), repeats);
    Path dir = models.resolve(spec.commandLine().getErr(), "bench-dataflow");
    DataflowBenchReport report = new DataflowBenchmark(dir, settings).run();
    PrintWriter out = spec.commandLine().getOut();
    out.print(report.table());
    out.flush();
    if (json != null) {
      new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report.toJson());
    }
    if (!report.tokensEqual()) {
      spec.commandLine().getErr().println("bench-dataflow: the dataflow's tokens differ from the engine's");
      return 1;
    }
    return 0;
  }
}
