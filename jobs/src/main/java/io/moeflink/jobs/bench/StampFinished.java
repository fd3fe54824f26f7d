package io.moeflink.jobs.bench;

import io.moeflink.operators.GenerationOutput;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Chained to the generation operator: notes when each output comes out. The warm-up output
 * releases the timed requests; the timed ones close the timed window.
 */
final class StampFinished extends RichMapFunction<GenerationOutput, GenerationOutput> {
  private static final long serialVersionUID = 1L;

  private final String runId;
  private final String warmUpId;

  StampFinished(String runId, String warmUpId) {
    this.runId = runId;
    this.warmUpId = warmUpId;
  }

  @Override
  public GenerationOutput map(GenerationOutput output) {
    RunClock clock = RunClock.of(runId);
    if (output.id().equals(warmUpId)) {
      clock.warmUpFinished();
    } else {
      clock.finished(System.nanoTime(), output.tokens().length);
    }
    return output;
  }
}
