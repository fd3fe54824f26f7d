package io.moeflink.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.generate.Speculation;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.jobs.SpeculationConverter;
import io.moeflink.workbench.bench.BenchReport;
import io.moeflink.workbench.bench.BenchSettings;
import io.moeflink.workbench.bench.ModelBenchmark;
import io.moeflink.workbench.bench.SpeculativeBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
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

  @Option(names = "--warmup", defaultValue = "5", description = "Untimed decode steps first, at the least (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--warmup-seconds", defaultValue = "2", description = "And more untimed steps until this long has passed (the JIT compiling the decode kernels; at most 256 more; default ${DEFAULT-VALUE}).")
  double warmupSeconds;

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

  @Option(names = "--speculative", defaultValue = "none", converter = SpeculationConverter.class,
      description = "mtp: instead, compare decode with and without MTP speculative decoding (batches default 1,16; --steps tokens each).")
  Speculation speculative;

  @Option(names = "--json", description = "Also write the results as JSON to this file.")
  Path json;

  @Override
  public Integer call() throws Exception {
    int[] lengths = java.util.stream.IntStream.concat(java.util.Arrays.stream(prefillTokens),
        longPrompts == null ? java.util.stream.IntStream.empty() : java.util.Arrays.stream(longPrompts))
        .filter(n -> n > 0).toArray();
    if (warmupSeconds < 0) {
      throw new IllegalArgumentException("--warmup-seconds is " + warmupSeconds + ", expected 0 or more");
    }
    BenchSettings settings = new BenchSettings(batches, promptTokens, warmup, (long) (warmupSeconds * 1e9), steps,
        lengths, prefillPrompts, prefillPromptTokens, repeats, Math.multiplyExact(bandwidthMib, 1L << 20),
        bandwidthPasses, fmaPasses);
    Path dir = models.resolve(spec.commandLine().getErr(), "bench");
    int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    PrintWriter out = spec.commandLine().getOut();
    if (speculative == Speculation.MTP) {
      return speculative(dir, nThreads, out);
    }
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

  /** Decode with and without the MTP module's drafts, on chat prompts when the model has a tokenizer. */
  private int speculative(Path dir, int nThreads, PrintWriter out) throws Exception {
    JobPreflight.speculation(speculative, dir, JobPreflight.modelDirectory("--model", dir));
    int[] sizes = spec.commandLine().getParseResult().hasMatchedOption("--batches") ? batches : new int[] {1, 16};
    try (KernelBackend kernels = Backends.cpu(models.backend, nThreads);
        Model plain = Model.load(dir, kernels);
        Model mtp = Model.load(dir, kernels, true)) {
      List<int[]> prompts = new ArrayList<>();
      if (Tokenizer.isPresentIn(dir)) {
        Tokenizer tokenizer = Tokenizer.load(dir);
        for (String word : new String[] {"harbor", "quiet", "river", "winter", "garden", "letter", "honest", "travel"}) {
          prompts.add(tokenizer.applyChatTemplate(List.of(new ChatMessage("user", "What does " + word + " mean?")), true));
        }
      } else {
        java.util.SplittableRandom random = new java.util.SplittableRandom(20240101L);
        for (int p = 0; p < 8; p++) {
          prompts.add(random.ints(promptTokens, 0, plain.config().vocabSize()).toArray());
        }
      }
      List<SpeculativeBenchmark.Row> rows =
          new SpeculativeBenchmark(plain, mtp, prompts).run(sizes, Math.max(2, steps) + 1, repeats);
      out.printf(java.util.Locale.ROOT, "%s, %s, %d threads; greedy decode with and without MTP drafts%n", dir,
          kernels.name(), kernels.threads());
      out.print(SpeculativeBenchmark.table(rows));
      out.flush();
    }
    return 0;
  }
}
