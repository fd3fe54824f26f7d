package io.moeflink.workbench.bench;

import java.util.Arrays;

/**
 * What one {@link ModelBenchmark} run measures.
 *
 * @param decodeBatches batch sizes to decode at, e.g. {@code [1, 16]}
 * @param promptTokens tokens each decode sequence is prefilled with before the timed steps
 * @param warmupSteps decode steps run and discarded before timing (JIT, page cache)
 * @param steps timed decode steps per batch size; the median is reported
 * @param prefillTokens tokens of the single long prefill prompt (0 skips it)
 * @param prefillPrompts number of prompts in the batched prefill (0 skips it)
 * @param prefillPromptTokens tokens of each batched prefill prompt
 * @param prefillRepeats timed repetitions of each prefill; the median is reported
 * @param bandwidthBytes size of the array the read-bandwidth probe streams
 * @param bandwidthPasses timed passes over it; the median is reported
 */
public record BenchSettings(
    int[] decodeBatches,
    int promptTokens,
    int warmupSteps,
    int steps,
    int prefillTokens,
    int prefillPrompts,
    int prefillPromptTokens,
    int prefillRepeats,
    long bandwidthBytes,
    int bandwidthPasses) {

  /** 2 GiB: far past any last-level cache, so the probe reads DRAM as the weights do. */
  public static final long DEFAULT_BANDWIDTH_BYTES = 2L << 30;

  public BenchSettings {
    decodeBatches = decodeBatches.clone();
    for (int b : decodeBatches) {
      requirePositive("decode batch", b);
    }
    requirePositive("prompt tokens", promptTokens);
    requireNonNegative("warm-up steps", warmupSteps);
    requirePositive("steps", steps);
    requireNonNegative("prefill tokens", prefillTokens);
    requireNonNegative("prefill prompts", prefillPrompts);
    if (prefillPrompts > 0) {
      requirePositive("prefill prompt tokens", prefillPromptTokens);
    }
    requirePositive("prefill repeats", prefillRepeats);
    requirePositive("bandwidth bytes", bandwidthBytes);
    requirePositive("bandwidth passes", bandwidthPasses);
  }

  /** The benchmark: batches 1 and 16, one 512-token and four 128-token prefills. */
  public static BenchSettings defaults() {
    return new BenchSettings(new int[] {1, 16}, 16, 5, 20, 512, 4, 128, 3, DEFAULT_BANDWIDTH_BYTES, 7);
  }

  @Override
  public int[] decodeBatches() {
    return decodeBatches.clone();
  }

  private static void requirePositive(String what, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(what + " is " + value + ", expected at least 1");
    }
  }

  private static void requireNonNegative(String what, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(what + " is " + value + ", expected 0 or more");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BenchSettings s
        && Arrays.equals(decodeBatches, s.decodeBatches)
        && promptTokens == s.promptTokens
        && warmupSteps == s.warmupSteps
        && steps == s.steps
        && prefillTokens == s.prefillTokens
        && prefillPrompts == s.prefillPrompts
        && prefillPromptTokens == s.prefillPromptTokens
        && prefillRepeats == s.prefillRepeats
        && bandwidthBytes == s.bandwidthBytes
        && bandwidthPasses == s.bandwidthPasses;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(decodeBatches) + Long.hashCode(bandwidthBytes) + steps;
  }

  @Override
  public String toString() {
    return "BenchSettings[batches=" + Arrays.toString(decodeBatches) + ", promptTokens=" + promptTokens + ", warmup="
        + warmupSteps + ", steps=" + steps + ", prefill=" + prefillTokens + " + " + prefillPrompts + "x"
        + prefillPromptTokens + ", repeats=" + prefillRepeats + ", bandwidth=" + bandwidthBytes + "B x "
        + bandwidthPasses + "]";
  }
}
