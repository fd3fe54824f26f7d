package io.moeflink.cli;

import io.moeflink.workbench.bench.BenchReport;
import io.moeflink.workbench.bench.BenchSettings;
import io.moeflink.workbench.bench.ModelBenchmark;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink bench}: decode and prefill throughput on the {@code small} preset, each decode
 * figure set against the read bandwidth measured in the same run. Without {@code --model} the
 * preset is generated once (seed 0) into {@code $MOE_FLINK_CACHE/models/small-<dtype>} (default
 * cache {@code ~/.cache/moe-flink}) and reused, so figures from different runs use the same
 * weights. The measuring lives in {@link ModelBenchmark}; this class parses and prints.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure decode (batch 1, 16, 64) and prefill throughput against the machine's read bandwidth and FMA peak.")
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin BenchModelOptions models;

  @Option(names = "--threads", description = "Kernel threads, also used by the bandwidth probe (default: available processors).")
  Integer threads;

  @Option(names = "--batches", split = ",", defaultValue = "1,16,64", description = "Decode batch sizes (default ${DEFAULT-VALUE}).")
  int[] batches;

  @Option(names = "--steps", defaultValue = "20", description = "Timed decode steps per batch size (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "5", description = "Untimed decode steps first (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--prompt-tokens", defaultValue = "16", description = "Tokens prefilled before decoding (default ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(names = "--prefill-tokens", split = ",", defaultValue = "512,2048", description = "Tokens of each single-prompt prefill, 0 = none (default ${DEFAULT-VALUE}).")
  int[] prefillTokens;

  @Option(names = "--long-prompts", split = ",", description = "More single-prompt prefills, e.g. 4096,8192,16384,32768: the absorbed attention over long contexts.")
  int[] longPrompts;

  @Option(names = "--prefill-prompts", defaultValue = "4", description = "Prompts of the batched prefill, 0 = skip (default ${DEFAULT-VALUE}).")
  int prefillPrompts;

  @Option(names = "--prefill-prompt-tokens", defaultValue = "128", description = "Tokens per batched prefill prompt (default ${DEFAULT-VALUE}).")
  int prefillPromptTokens;

  @Option(names = "--repeats", defaultValue = "3", description = "Timed repetitions of each prefill (default ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--bandwidth-mib", defaultValue = "2048", description = "Size of the read-bandwidth probe in MiB (default ${DEFAULT-VALUE}).")
  long bandwidthMib;

  @Option(names = "--bandwidth-passes", defaultValue = "7", description = "Timed passes of the probe (default ${DEFAULT-VALUE}).")
  int bandwidthPasses;

  @Option(names = "--fma-passes", defaultValue = "5", description = "Timed passes of the FMA probe (default ${DEFAULT-VALUE}).")
  int fmaPasses;

  @Option(names = "--json", description = "Also write the results as JSON to this file.")
  Path json;

  @Override
  public Integer call() throws Exception {
    int[] lengths = java.util.stream.IntStream.concat(java.util.Arrays.stream(prefillTokens),
        longPrompts == null ? java.util.stream.IntStream.empty() : java.util.Arrays.stream(longPrompts))
        .filter(n -> n > 0).toArray();
    BenchSettings settings = new BenchSettings(batches, promptTokens, warmup, steps, lengths, prefillPrompts,
        prefillPromptTokens, repeats, Math.multiplyExact(bandwidthMib, 1L << 20), bandwidthPasses, fmaPasses);
    Path dir = models.resolve(spec.commandLine().getErr(), "bench");
    int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    PrintWriter out = spec.commandLine().getOut();
    try (KernelBackend kernels = Backends.cpu(models.backend, nThreads);
        Model m = Model.load(dir, kernels)) {
      BenchReport report = new ModelBenchmark(m, dir.toString()).run(settings);
      out.print(report.table());
      out.flush();
      if (json != null) {
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report.toJson());
      }
    }
    return 0;
  }
}
