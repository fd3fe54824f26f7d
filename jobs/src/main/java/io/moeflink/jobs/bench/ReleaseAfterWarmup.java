package io.moeflink.jobs.bench;

import io.moeflink.operators.GenerationTask;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Lets the warm-up request through at once and holds the first timed request until the warm-up
 * output has come out, then opens the run's timed window. It blocks only its own task (the
 * source's), which must not be chained to the generation operator.
 */
final class ReleaseAfterWarmup extends RichMapFunction<GenerationTask, GenerationTask> {
  private static final long serialVersionUID = 1L;
  /** Longer than any warm-up: model load and one request on a slow machine. */
  private static final long WARM_UP_TIMEOUT_MILLIS = 30 * 60 * 1000L;

  private final String runId;
  private final String warmUpId;
  private transient boolean released;

  ReleaseAfterWarmup(String runId, String warmUpId) {
    this.runId = runId;
    this.warmUpId = warmUpId;
  }

  @Override
  public GenerationTask map(GenerationTask task) throws Exception {
    if (task.id().equals(warmUpId) || released) {
      return task;
    }
    RunClock clock = RunClock.of(runId);
    if (!clock.awaitWarmUp(WARM_UP_TIMEOUT_MILLIS)) {
      throw new IllegalStateException(
          "The warm-up request of run " + runId + " did not finish within " + WARM_UP_TIMEOUT_MILLIS / 60_000 + " minutes");
    }
    released = true;
    clock.start(System.nanoTime());
    return task;
  }
}
