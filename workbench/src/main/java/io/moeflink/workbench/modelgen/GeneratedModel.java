package io.moeflink.workbench.modelgen;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ModelGenerator#writeTo} wrote.
 *
 * @param directory the checkpoint directory
 * @param shape the model's shape
 * @param format how the weights are stored
 * @param seed the seed the weights were drawn from
 * @param parameters weight elements (FP8 scales excluded)
 * @param activeParameters parameters one token uses (see {@link ModelShape#activeParameterCount})
 * @param tensors tensors in the checkpoint, FP8 scales included
 * @param tensorBytes tensor data bytes, the index's {@code metadata.total_size}
 * @param bytesWritten size of every file written: shards with headers, JSON, tokenizer
 * @param files the files written, shards first
 * @param elapsed wall time
 */
public record GeneratedModel(
    Path directory,
    ModelShape shape,
    WeightFormat format,
    long seed,
    long parameters,
    long activeParameters,
    int tensors,
    long tensorBytes,
    long bytesWritten,
    List<Path> files,
    Duration elapsed) {

  public GeneratedModel {
    files = List.copyOf(files);
  }

  /** One line for people: what, how big, how long. */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%s model in %s: %,d parameters (%,d active per token), %,d tensors, %,d bytes in %d files,"
            + " %.1f s (seed %d)",
        format,
        directory,
        parameters,
        activeParameters,
        tensors,
        bytesWritten,
        files.size(),
        elapsed.toMillis() / 1000.0,
        seed);
  }
}
