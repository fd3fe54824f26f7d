package io.moeflink.operators.generation;

import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/** One tenant's figures in a generation subtask, under the metric group {@code tenant.<name>}. */
final class TenantMetrics {
  /** Requests of the tenant that completed. */
  final Counter requests;
  /** Tokens those requests generated. */
  final Counter tokens;
  /** From admission to a sequence slot. */
  final Histogram queueTimeMillis;

  TenantMetrics(MetricGroup group, IntSupplier running) {
    requests = group.counter("requests");
    tokens = group.counter("tokensGenerated");
    queueTimeMillis = group.histogram("queueTimeMillis", new DescriptiveStatisticsHistogram(1000));
    group.gauge("runningSequences", running::getAsInt);
  }

  void completed(int generatedTokens) {
    requests.inc();
    tokens.inc(generatedTokens);
  }
}
