package io.moeflink.jobs.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The runs of one configuration of {@link DataflowBenchmark}.
 *
 * @param name what ran, for the table
 * @param generationParallelism G of the dataflow; 0 for the engine alone
 * @param expertShards S of the dataflow; the engine alone holds its experts in one shard
 * @param runs one per repeat, in order
 * @param tokensEqualEngine whether every run produced exactly the engine's tokens for every request
 */
public record ConfigFigures(
    String name, int generationParallelism, int expertShards, List<ConfigFigures.Run> runs, boolean tokensEqualEngine) {

  ConfigFigures(String name, int generationParallelism, int expertShards, List<Run> runs, Map<String, List<Integer>> engine) {
    this(name, generationParallelism, expertShards, runs, runs.stream().allMatch(r -> r.tokensById().equals(engine)));
  }

  public ConfigFigures {
    runs = List.copyOf(runs);
  }

  /**
   * One timed run.
   *
   * @param tokens output tokens generated in the timed window
   * @param nanos length of the timed window
   * @param tokensById the tokens of each request
   */
  public record Run(long tokens, long nanos, Map<String, List<Integer>> tokensById) {
    public Run {
      tokensById = Map.copyOf(tokensById);
    }

    public double tokensPerSecond() {
      return tokens / (nanos / 1e9);
    }
  }

  /** Output tokens per second of each run, in order. */
  public double[] tokensPerSecond() {
    return runs.stream().mapToDouble(Run::tokensPerSecond).toArray();
  }

  public double medianTokensPerSecond() {
    return median(tokensPerSecond());
  }

  /** The middle value (the upper one of an even count). */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
