package io.moeflink.cli;

import io.moeflink.workbench.modelgen.CheckpointFamily;
import io.moeflink.workbench.modelgen.GeneratedModel;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.WeightFormat;
import io.moeflink.workbench.quantize.IntQuantization;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink make-model}: writes a seeded random DeepSeek-V3 checkpoint for tests, the demo
 * and benchmarks, and prints a one-line summary to stdout (lifecycle logs go to stderr).
 */
@Command(
    name = "make-model",
    mixinStandardHelpOptions = true,
    description = "Write a seeded random DeepSeek-V3 checkpoint in Hugging Face layout.")
final class MakeModelCommand implements Callable<Integer> {

  private static final long MIB = 1L << 20;

  @Spec private CommandSpec spec;

  @Option(names = "--out", required = true, description = "Directory to write the model into.")
  private Path out;

  @Option(
      names = "--preset",
      required = true,
      converter = PresetConverter.class,
      description = "Model shape: tiny or small.")
  private ModelPreset preset;

  @Option(
      names = "--dtype",
      defaultValue = "bf16",
      converter = FormatConverter.class,
      description =
          "Weight storage: bf16, fp8 (128x128 block scales), int8 or int4 (compressed-tensors"
              + " pack-quantized). Default: ${DEFAULT-VALUE}.")
  private WeightFormat format;

  @Mixin private IntQuantizationOptions integers;

  @Option(
      names = "--family",
      defaultValue = "v3",
      converter = FamilyConverter.class,
      description =
          "Checkpoint family whose config keys and tensor names to write: v3, v3.1 (fp8 only), v3.2-exp,"
              + " kimi-k2, moonlight,"
              + " v2 or v2-lite (the preset's sizes with the family's groups, query path, shared experts,"
              + " router and rope). Default: ${DEFAULT-VALUE}.")
  private CheckpointFamily family;

  @Option(names = "--mtp", description = "Also write an MTP module (layer num_hidden_layers), for --speculative mtp.")
  private boolean mtp;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Weight seed. Default: ${DEFAULT-VALUE}.")
  private long seed;

  @Option(
      names = "--shard-mib",
      defaultValue = "1024",
      description = "Largest tensor data per shard file, in MiB. Default: ${DEFAULT-VALUE}.")
  private long shardMib;

  @Option(
      names = "--force",
      description = "Write into a non-empty directory, replacing an earlier checkpoint there.")
  private boolean force;

  @Override
  public Integer call() throws IOException {
    if (shardMib <= 0) {
      throw new ParameterException(
          spec.commandLine(), "--shard-mib is " + shardMib + ", must be positive");
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new ParameterException(
          spec.commandLine(), "--out " + out + " exists and is not a directory");
    }
    IntQuantization ints = null;
    if (format == WeightFormat.INT8 || format == WeightFormat.INT4) {
      ints = integers.quantization(spec, format.toString());
    } else if (integers.given()) {
      throw new ParameterException(spec.commandLine(), "--group and --asymmetric go with --dtype int8 or int4");
    }
    List<Path> earlier = existingEntries(out);
    if (!earlier.isEmpty()) {
      if (!force) {
        throw new ParameterException(
            spec.commandLine(),
            "Output directory "
                + out
                + " is not empty ("
                + earlier.size()
                + " entries); choose another --out or pass --force to replace its checkpoint");
      }
      deleteEarlierCheckpoint(earlier);
    }
    GeneratedModel model =
        ModelGenerator.builder(family.adapt(preset.shape()))
            .family(family)
            .format(format)
            .ints(ints)
            .mtp(mtp)
            .seed(seed)
            .maxShardBytes(Math.multiplyExact(shardMib, MIB))
            .build()
            .writeTo(out);
    spec.commandLine()
        .getOut()
        .printf(
            Locale.ROOT,
            "make-model: %s%s %s seed %d -> %s: %,d parameters (%,d active), %,d bytes in %d files,"
                + " %.1f s%n",
            preset,
            family == CheckpointFamily.V3 ? "" : " " + family,
            format,
            seed,
            out,
            model.parameters(),
            model.activeParameters(),
            model.bytesWritten(),
            model.files().size(),
            model.elapsed().toMillis() / 1000.0);
    spec.commandLine().getOut().flush();
    return 0;
  }

  private static List<Path> existingEntries(Path dir) throws IOException {
    List<Path> entries = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
        stream.forEach(entries::add);
      }
    }
    return entries;
  }

  /**
   * Removes the files of a checkpoint (weights, index, config, tokenizer) so that no stale shard of
   * an earlier, differently sharded model survives; anything else in the directory is kept.
   */
  private static void deleteEarlierCheckpoint(List<Path> entries) throws IOException {
    for (Path entry : entries) {
      String name = entry.getFileName().toString();
      boolean checkpointFile =
          name.endsWith(".safetensors")
              || name.equals("model.safetensors.index.json")
              || name.equals("config.json")
              || name.equals("tokenizer.json")
              || name.equals("tokenizer_config.json");
      if (checkpointFile && Files.isRegularFile(entry)) {
        Files.delete(entry);
      }
    }
  }

  /** Accepts preset names in any case. */
  static final class PresetConverter implements ITypeConverter<ModelPreset> {
    @Override
    public ModelPreset convert(String value) {
      return ModelPreset.fromName(value);
    }
  }

  static final class FamilyConverter implements ITypeConverter<CheckpointFamily> {
    @Override
    public CheckpointFamily convert(String value) {
      try {
        return CheckpointFamily.fromName(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Accepts bf16 / fp8 / int8 / int4 in any case. */
  static final class FormatConverter implements ITypeConverter<WeightFormat> {
    @Override
    public WeightFormat convert(String value) {
      return WeightFormat.fromName(value);
    }
  }
}
