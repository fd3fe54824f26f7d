package io.moeflink.jobs;

import io.moeflink.engine.kernel.BackendKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code --backend} once, into a {@link BackendKind}, with the accepted names in the error. */
public final class BackendKindConverter implements ITypeConverter<BackendKind> {
  @Override
  public BackendKind convert(String value) {
    try {
      return BackendKind.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
