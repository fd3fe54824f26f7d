package io.moeflink.workbench.bench;

import java.util.Arrays;

/** Medians of timings: robust to the stalls a shared machine throws in. */
final class Medians {
  private Medians() {}

  /** The middle value (the upper one of an even count). */
  static long of(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The middle value (the upper one of an even count). */
  static double of(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
