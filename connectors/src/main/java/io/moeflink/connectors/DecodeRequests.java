package io.moeflink.connectors;

import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes raw records in the job: valid requests go on, dead letters leave through the {@link
 * #DEAD_LETTERS} side output. Metrics: {@code requestsDecoded}, and {@code deadLetters} under a
 * {@code reason} group per reason code (all registered at start, so dashboards show zeros).
 */
public final class DecodeRequests extends ProcessFunction<RawRecord, InferenceRequest> {

  private static final long serialVersionUID = 1L;

  /** The side output of rejected records. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", Contracts.deadLetters());

  /** Does the work; this class only wires it into Flink. */
  private final RequestDecoder decoder;

  /** Valid requests emitted. */
  private transient Counter requestsDecoded;

  /** Dead letters emitted, per reason. */
  private transient Map<DeadLetterReason, Counter> deadLetters;

  public DecodeRequests(RequestDecoder decoder) {
    this.decoder = decoder;
  }

  @Override
  public void open(OpenContext openContext) {
    MetricGroup metrics = getRuntimeContext().getMetricGroup();
    requestsDecoded = metrics.counter("requestsDecoded");
    deadLetters = new EnumMap<>(DeadLetterReason.class);
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      deadLetters.put(reason, metrics.addGroup("reason", reason.name()).counter("deadLetters"));
    }
  }

  @Override
  public void processElement(RawRecord record, Context ctx, Collector<InferenceRequest> out) {
    Decoded decoded = decoder.decode(record);
    if (decoded instanceof Decoded.Request valid) {
      requestsDecoded.inc();
      out.collect(valid.request());
    } else if (decoded instanceof Decoded.Rejected rejected) {
      deadLetters.get(rejected.deadLetter().getReason()).inc();
      ctx.output(DEAD_LETTERS, rejected.deadLetter());
    }
  }
}
