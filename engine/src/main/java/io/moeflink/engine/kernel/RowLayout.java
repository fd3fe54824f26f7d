package io.moeflink.engine.kernel;

/**
 * Where the rows of an operand sit in an {@link Activations} buffer: row {@code r} starts at
 * {@code offset + r * stride}.
 */
public record RowLayout(int offset, int stride) {

  public RowLayout {
    if (offset < 0 || stride < 0) {
      throw new IllegalArgumentException("Row layout offset " + offset + ", stride " + stride + ": both must be >= 0");
    }
  }

  /** Rows of {@code width} packed one after the other from the start. */
  public static RowLayout packed(int width) {
    return new RowLayout(0, width);
  }

  /** Element {@code i} of row {@code r}. */
  int at(int r, int i) {
    return offset + r * stride + i;
  }
}
