package io.moeflink.jobs.bench;

import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import java.util.List;

/**
 * What {@link DataflowBenchmark} runs.
 *
 * @param requests timed requests per run (one more, untimed, warms each run up)
 * @param promptTokens prompt length of every request
 * @param maxTokens tokens each request generates at most
 * @param limits continuous-batching limits, the same for the engine and the generation operator
 * @param backend the kernel backend
 * @param threads kernel threads of the engine, and of each operator instance of the dataflow
 * @param expertShards the dataflow configurations to run, as numbers of expert shards (G = 1)
 * @param repeats timed runs of every configuration
 */
public record DataflowBenchSettings(
    int requests, int promptTokens, int maxTokens, SchedulerLimits limits, BackendKind backend, int threads,
    List<Integer> expertShards, int repeats) {

  public DataflowBenchSettings {
    positive("requests", requests);
    positive("promptTokens", promptTokens);
    positive("maxTokens", maxTokens);
    positive("threads", threads);
    positive("repeats", repeats);
    if (limits == null) {
      throw new IllegalArgumentException("limits must not be null");
    }
    expertShards = List.copyOf(expertShards);
    if (expertShards.isEmpty()) {
      throw new IllegalArgumentException("No dataflow configuration given: name at least one number of expert shards");
    }
    expertShards.forEach(s -> positive("expertShards", s));
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " is " + value + ", expected at least 1");
    }
  }
}
