package io.moeflink.workbench.bench;

import java.util.Arrays;

/**
 * What one {@link ModelBenchmark} run measures.
 *
 * @param decodeBatches batch sizes to decode at, e.g. {@code [1, 16]}
 * @param promptTokens tokens each decode sequence is prefilled with before the timed steps
 * @param warmupSteps decode steps run and discarded before timing (JIT, page cache)
 * @param warmupNanos and more of them until this long has passed, up to {@link
 *     #MAX_EXTRA_WARMUP_STEPS}: the JIT compiles the decode kernels over the first second or so
 *     (batch 1 on {@code small}: 50 tokens/s after 5 warm-up steps, 66 after 50)
 * @param steps timed decode steps per batch size; the median is reported
 * @param prefillLengths tokens of each single-prompt prefill, e.g. {@code [512, 2048]} (empty skips them)
 * @param prefillPrompts number of prompts in the batched prefill (0 skips it)
 * @param prefillPromptTokens tokens of each batched prefill prompt
 * @param prefillRepeats timed repetitions of each prefill; the median is reported
 * @param bandwidthBytes size of the array the read-bandwidth probe streams
 * @param bandwidthPasses timed passes over it; the median is reported
 * @param fmaPasses timed passes of the FMA probe; the median is reported
 */
public record BenchSettings(
    int[] decodeBatches,
    int promptTokens,
    int warmupSteps,
    long warmupNanos,
    int steps,
    int[] prefillLengths,
    int prefillPrompts,
    int prefillPromptTokens,
    int prefillRepeats,
    long bandwidthBytes,
    int bandwidthPasses,
    int fmaPasses) {

  /** 2 GiB: far past any last-level cache, so the probe reads DRAM as the weights do. */
  public static final long DEFAULT_BANDWIDTH_BYTES = 2L << 30;
  /** Two seconds of warm-up steps per batch size: long past the decode kernels' C2 compiles. */
  public static final long DEFAULT_WARMUP_NANOS = 2_000_000_000L;
  /** Most steps {@code warmupNanos} adds to {@code warmupSteps}, so that a fast model's cache stays short. */
  public static final int MAX_EXTRA_WARMUP_STEPS = 256;

  public BenchSettings {
    decodeBatches = decodeBatches.clone();
    for (int b : decodeBatches) {
      requirePositive("decode batch", b);
    }
    requirePositive("prompt tokens", promptTokens);
    requireNonNegative("warm-up steps", warmupSteps);
    requireNonNegative("warm-up nanoseconds", warmupNanos);
    requirePositive("steps", steps);
    prefillLengths = prefillLengths.clone();
    for (int p : prefillLengths) {
      requirePositive("prefill length", p);
    }
    requireNonNegative("prefill prompts", prefillPrompts);
    if (prefillPrompts > 0) {
      requirePositive("prefill prompt tokens", prefillPromptTokens);
    }
    requirePositive("prefill repeats", prefillRepeats);
    requirePositive("bandwidth bytes", bandwidthBytes);
    requirePositive("bandwidth passes", bandwidthPasses);
    requirePositive("FMA probe passes", fmaPasses);
  }

  /** The benchmark: batches 1, 16 and 64, prefills of 1 x 512, 1 x 2048 and 4 x 128 tokens. */
  public static BenchSettings defaults() {
    return new BenchSettings(new int[] {1, 16, 64}, 16, 5, DEFAULT_WARMUP_NANOS, 20, new int[] {512, 2048}, 4, 128, 3,
        DEFAULT_BANDWIDTH_BYTES, 7, 5);
  }

  /** Whether decode runs another untimed step after {@code done} of them, {@code elapsedNanos} in all. */
  public boolean warmsUpAfter(int done, long elapsedNanos) {
    return done < warmupSteps || (elapsedNanos < warmupNanos && done < warmupSteps + MAX_EXTRA_WARMUP_STEPS);
  }

  @Override
  public int[] prefillLengths() {
    return prefillLengths.clone();
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
        && warmupNanos == s.warmupNanos
        && steps == s.steps
        && Arrays.equals(prefillLengths, s.prefillLengths)
        && prefillPrompts == s.prefillPrompts
        && prefillPromptTokens == s.prefillPromptTokens
        && prefillRepeats == s.prefillRepeats
        && bandwidthBytes == s.bandwidthBytes
        && bandwidthPasses == s.bandwidthPasses
        && fmaPasses == s.fmaPasses;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(decodeBatches) + Long.hashCode(bandwidthBytes) + steps;
  }

  @Override
  public String toString() {
    return "BenchSettings[batches=" + Arrays.toString(decodeBatches) + ", promptTokens=" + promptTokens + ", warmup="
        + warmupSteps + " steps / " + warmupNanos + " ns, steps=" + steps + ", prefill=" + Arrays.toString(prefillLengths)
        + " + " + prefillPrompts + "x" + prefillPromptTokens + ", repeats=" + prefillRepeats + ", bandwidth=" + bandwidthBytes + "B x "
        + bandwidthPasses + ", fma passes=" + fmaPasses + "]";
  }
}
