package io.moeflink.jobs;

import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An option value parsed once by the type's own {@code parse}; its {@link IllegalArgumentException}
 * message (which names the accepted values) becomes picocli's one-line usage error.
 */
abstract class ParsingConverter<T> implements ITypeConverter<T> {
  private final Function<String, T> parse;

  ParsingConverter(Function<String, T> parse) {
    this.parse = parse;
  }

  @Override
  public T convert(String value) {
    try {
      return parse.apply(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
