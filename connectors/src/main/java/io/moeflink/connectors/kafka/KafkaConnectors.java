package io.moeflink.connectors.kafka;

import io.moeflink.connectors.ValueEncoder;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;

/**
 * Kafka sources and sinks of the job, as Flink's own {@code KafkaSource} and {@code KafkaSink}.
 *
 * <pre>{@code
 * KafkaSource<RawRecord> requests = KafkaConnectors.requestSource()
 *     .bootstrapServers("localhost:9092").topics("requests").build();
 * KafkaSink<Completion> completions = KafkaConnectors.completionSink()
 *     .bootstrapServers("localhost:9092").topic("completions")
 *     .transactionalIdPrefix("moe-flink-demo").build();
 * KafkaSink<DeadLetter> deadLetters = KafkaConnectors.deadLetterSink()
 *     .bootstrapServers("localhost:9092").topic("requests-dlq")
 *     .transactionalIdPrefix("moe-flink-demo-dlq").build();
 * }</pre>
 */
public final class KafkaConnectors {

  private KafkaConnectors() {}

  /** Requests as raw records, to be decoded in the job. */
  public static RequestSourceBuilder requestSource() {
    return new RequestSourceBuilder();
  }

  /** Completions keyed by request id. */
  public static ResultSinkBuilder<Completion> completionSink() {
    return new ResultSinkBuilder<>(ValueEncoder::completions, Completion::getId);
  }

  /**
   * Dead letters keyed by request id where it is known, else by where the record was read (so
   * replays of the same bad record share a key).
   */
  public static ResultSinkBuilder<DeadLetter> deadLetterSink() {
    return new ResultSinkBuilder<>(ValueEncoder::deadLetters, KafkaConnectors::deadLetterKey);
  }

  static String deadLetterKey(DeadLetter deadLetter) {
    return deadLetter.getRequestId() != null
        ? deadLetter.getRequestId()
        : deadLetter.getSource().toString();
  }
}
