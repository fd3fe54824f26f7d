package io.moeflink.workbench.quantize;

/**
 * How a projection is quantized to integers, in the compressed-tensors conventions: {@code bits}
 * (4 or 8), a scale per row and group of {@code groupSize} columns (0: one group of all columns,
 * per channel), and a zero point per group unless {@code symmetric}.
 */
public record IntQuantization(int bits, int groupSize, boolean symmetric) {

  public IntQuantization {
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException("bits is " + bits + ", expected 4 or 8");
    }
    if (groupSize < 0) {
      throw new IllegalArgumentException("group size is " + groupSize + ", expected 0 (per channel) or more");
    }
  }

  /** INT8: per channel, symmetric (W8A16). */
  public static final IntQuantization INT8 = new IntQuantization(8, 0, true);
  /** INT4: groups of 32, symmetric (Kimi K2-Thinking's layout). */
  public static final IntQuantization INT4 = new IntQuantization(4, 32, true);

  /** Columns of one group for a matrix of {@code cols} columns. */
  public int groupFor(int cols) {
    return groupSize == 0 ? cols : groupSize;
  }

  /** Integers per int32 word. */
  public int perWord() {
    return 32 / bits;
  }

  /** The smallest and largest integer: {@code -2^(bits-1)} and {@code 2^(bits-1) - 1}. */
  public int min() {
    return -(1 << (bits - 1));
  }

  public int max() {
    return (1 << (bits - 1)) - 1;
  }
}
