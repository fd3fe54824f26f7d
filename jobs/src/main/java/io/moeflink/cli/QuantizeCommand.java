package io.moeflink.cli;

import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.config.ModelConfigException;
import io.moeflink.workbench.quantize.CheckpointQuantizer;
import io.moeflink.workbench.quantize.IntQuantization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink quantize}: rewrites a BF16 or FP8 checkpoint with INT8 or INT4 projections in
 * the compressed-tensors {@code pack-quantized} layout, which the engine (and vLLM) load.
 */
@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    description = "Quantize a BF16 or FP8 DeepSeek-V3 checkpoint's projections to INT8 or INT4.")
final class QuantizeCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--in", required = true, description = "The checkpoint directory to read.")
  private Path in;

  @Option(names = "--out", required = true, description = "An empty or new directory to write into.")
  private Path out;

  @Option(names = "--format", required = true, description = "int8 or int4.")
  private String format;

  @Mixin private IntQuantizationOptions ints;

  @Option(
      names = "--threads",
      description = "Tensors quantized at once. Default: one per core.")
  private int threads = Runtime.getRuntime().availableProcessors();

  @Override
  public Integer call() throws IOException {
    IntQuantization quantization = ints.quantization(spec, format);
    if (threads < 1) {
      throw new ParameterException(spec.commandLine(), "--threads is " + threads + ", must be at least 1");
    }
    if (!Files.isRegularFile(in.resolve("config.json"))) {
      throw new ParameterException(spec.commandLine(), "--in " + in + " has no config.json; point it at a Hugging Face model directory");
    }
    if (Files.isDirectory(out)) {
      try (Stream<Path> entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new ParameterException(spec.commandLine(), "--out " + out + " is not empty; choose a new directory");
        }
      }
    } else if (Files.exists(out)) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " exists and is not a directory");
    }
    long total = tensorBytes(in);
    CheckpointQuantizer.Result result;
    try (ProgressBar bar = new ProgressBarBuilder().setTaskName("quantize").setInitialMax(total).setUnit(" MiB", 1 << 20)
        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err)).showSpeed().build()) {
      result = new CheckpointQuantizer(quantization, threads).quantize(in, out, bar::stepTo);
      bar.stepTo(total); // the headers and consumed FP8 scales were not counted
    } catch (CheckpointException | ModelConfigException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    spec.commandLine().getOut().printf(Locale.ROOT,
        "quantize: %s -> %s: %d projections as %d-bit integers (%s, %s), %d tensors copied, %,d -> %,d bytes, %.1f s%n",
        in, out, result.quantized(), quantization.bits(),
        quantization.groupSize() == 0 ? "per channel" : "groups of " + quantization.groupSize(),
        quantization.symmetric() ? "symmetric" : "asymmetric", result.copied(), result.bytesIn(), result.bytesOut(),
        result.elapsed().toMillis() / 1000.0);
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Bytes of all tensors of the checkpoint, the progress bar's total. */
  private static long tensorBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      long sum = 0;
      for (Path f : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
        sum += Files.size(f);
      }
      return sum;
    }
  }
}
