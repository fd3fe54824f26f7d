package io.moeflink.cli;

import io.moeflink.engine.modelgen.ModelGenerator;
import io.moeflink.engine.modelgen.ModelPreset;
import io.moeflink.engine.modelgen.WeightFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The {@code small} preset that the benchmarks measure, generated once (seed 0) into {@code
 * $MOE_FLINK_CACHE/models/small-<dtype>} (default cache {@code ~/.cache/moe-flink}) and reused, so
 * figures from different runs and different benchmarks use the same weights.
 */
final class CachedPreset {
  private static final long SEED = 0;

  private CachedPreset() {}

  /** The cached small preset, generated first if absent (into a temp dir, then moved). */
  static Path small(WeightFormat dtype, PrintWriter err, String command) throws IOException {
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
