package io.moeflink.engine.kernel;

/**
 * Where one head's slice of a token row sits in an {@link Activations} buffer: head {@code h} of
 * row {@code r} starts at {@code offset + r * rowStride + h * headStride}.
 */
public record HeadLayout(int offset, int rowStride, int headStride) {

  public HeadLayout {
    if (offset < 0 || rowStride < 0 || headStride < 0) {
      throw new IllegalArgumentException(
          "Head layout offset " + offset + ", row stride " + rowStride + ", head stride " + headStride
              + ": all must be >= 0");
    }
  }

  /** Rows of {@code heads * width}, head-major within a row. */
  public static HeadLayout packed(int heads, int width) {
    return new HeadLayout(0, heads * width, width);
  }

  /** Element {@code i} of head {@code h} of row {@code r}. */
  int at(int r, int h, int i) {
    return offset + r * rowStride + h * headStride + i;
  }
}
