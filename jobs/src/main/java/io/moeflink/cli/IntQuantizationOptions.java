package io.moeflink.cli;

import io.moeflink.workbench.quantize.IntQuantization;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --group} and {@code --asymmetric}: how {@code make-model} and {@code quantize} store integers. */
final class IntQuantizationOptions {

  @Option(
      names = "--group",
      description = "int8/int4: columns per scale, 0 for one scale per row. Default: 0 for int8, 32 for int4.")
  Integer group;

  @Option(names = "--asymmetric", description = "int8/int4: a zero point per group as well as a scale.")
  boolean asymmetric;

  /** Whether either option was given. */
  boolean given() {
    return group != null || asymmetric;
  }

  /** The quantization of {@code format} (int8 or int4) with these options. */
  IntQuantization quantization(CommandSpec spec, String format) {
    int bits = switch (format.toLowerCase(Locale.ROOT)) {
      case "int8" -> 8;
      case "int4" -> 4;
      default -> throw new ParameterException(spec.commandLine(), "--format is '" + format + "', expected int8 or int4");
    };
    int columns = group != null ? group : bits == 8 ? 0 : 32;
    if (columns < 0) {
      throw new ParameterException(spec.commandLine(), "--group is " + columns + ", expected 0 (per channel) or a positive column count");
    }
    return new IntQuantization(bits, columns, !asymmetric);
  }
}
