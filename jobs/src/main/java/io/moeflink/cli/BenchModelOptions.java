package io.moeflink.cli;

import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.jobs.BackendKindConverter;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import picocli.CommandLine.Option;

/**
 * What the benchmarks measure: a checkpoint given with {@code --model}, or else the {@code small}
 * preset, generated once (seed 0) into {@code $MOE_FLINK_CACHE/models/small-<dtype>} (default cache
 * {@code ~/.cache/moe-flink}) and reused, so figures from different runs and different benchmarks
 * use the same weights; and the kernel backend. A picocli mixin.
 */
final class BenchModelOptions {
  private static final long SEED = 0;

  @Option(names = "--model", description = "Checkpoint directory (default: the generated small preset, cached).")
  Path model;

  @Option(names = "--dtype", defaultValue = "bf16", converter = MakeModelCommand.FormatConverter.class,
      description = "Weights of the generated default model: bf16 or fp8 (default ${DEFAULT-VALUE}).")
  WeightFormat dtype;

  @Option(names = "--backend", defaultValue = "auto", converter = BackendKindConverter.class,
      description = "Kernel backend: auto, vector or scalar (default ${DEFAULT-VALUE}).")
  BackendKind backend;

  /** The checkpoint to measure: {@code --model}, or the cached small preset. */
  Path resolve(PrintWriter err, String command) throws IOException {
    JobPreflight.backend(backend);
    if (model != null) {
      JobPreflight.modelDirectory("--model", model);
      return model;
    }
    return cachedSmall(err, command);
  }

  /** The cached small preset, generated first if absent (into a temp dir, then moved). */
  private Path cachedSmall(PrintWriter err, String command) throws IOException {
    String cache = System.getenv("MOE_FLINK_CACHE");
    Path root = cache != null && !cache.isBlank()
        ? Path.of(cache)
        : Path.of(System.getProperty("user.home"), ".cache", "moe-flink");
    Path dir = root.resolve("models").resolve("small-" + dtype);
    if (Files.isRegularFile(dir.resolve("config.json"))) {
      return dir;
    }
    Files.createDirectories(dir.getParent());
    Path partial = Files.createTempDirectory(dir.getParent(), "small-" + dtype + ".partial");
    err.printf("%s: generating the small %s preset (seed %d) into %s%n", command, dtype, SEED, dir);
    err.flush();
    ModelGenerator.builder(ModelPreset.SMALL.shape()).format(dtype).seed(SEED).build().writeTo(partial);
    Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
    return dir;
  }
}
