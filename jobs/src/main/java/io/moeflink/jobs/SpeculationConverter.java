package io.moeflink.jobs;

import io.moeflink.engine.generate.Speculation;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code --speculative}: {@code none} or {@code mtp}. */
public final class SpeculationConverter implements ITypeConverter<Speculation> {
  @Override
  public Speculation convert(String value) {
    try {
      return Speculation.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
