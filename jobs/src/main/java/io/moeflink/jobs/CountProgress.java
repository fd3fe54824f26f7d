package io.moeflink.jobs;

import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;

/** Counts finished records (completions and dead letters) on their way to the sinks. */
final class CountProgress<T extends SpecificRecord> extends RichMapFunction<T, T> {
  private static final long serialVersionUID = 1L;

  private final String runId;
  private transient Counter records;
  private transient Counter tokens;
  private transient ProgressBoard.Progress local;

  CountProgress(String runId) {
    this.runId = runId;
  }

  @Override
  public void open(OpenContext context) {
    var group = getRuntimeContext().getMetricGroup();
    records = group.counter("recordsDone");
    tokens = group.counter("completionTokens");
    group.meter("completionTokensPerSecond", new MeterView(tokens));
    local = ProgressBoard.of(runId);
  }

  @Override
  public T map(T value) {
    records.inc();
    local.records.incrementAndGet();
    if (value instanceof Completion c) {
      tokens.inc(c.getTokenIds().size());
      local.tokens.addAndGet(c.getTokenIds().size());
    } else if (!(value instanceof DeadLetter)) {
      throw new IllegalArgumentException("Unexpected record " + value.getClass());
    }
    return value;
  }
}
