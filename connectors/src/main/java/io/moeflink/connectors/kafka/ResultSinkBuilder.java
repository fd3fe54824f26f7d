package io.moeflink.connectors.kafka;

import io.moeflink.connectors.RecordFormat;
import io.moeflink.connectors.ValueEncoder;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Function;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Configures a Kafka sink for completions or dead letters, keyed by request id.
 *
 * <p>Exactly-once by default: records are written in Kafka transactions that commit when a Flink
 * checkpoint completes, so consumers reading with {@code isolation.level=read_committed} see each
 * result once, and only after the checkpoint that covers it (results lag by up to one checkpoint
 * interval). Two settings matter:
 *
 * <ul>
 *   <li>{@link #transactionalIdPrefix}: must be unique per job (and stable across restarts of
 *       that job). Two jobs sharing a prefix fence each other's producers and abort each other's
 *       transactions.
 *   <li>{@link #transactionTimeout}: how long the broker keeps an open transaction before aborting
 *       it. It must be longer than the checkpoint interval plus the time to recover from a failure
 *       (or results are lost), and at most the broker's {@code transaction.max.timeout.ms} (15
 *       minutes by default), or the job fails at once. The default is 10 minutes.
 * </ul>
 */
public final class ResultSinkBuilder<T> {

  /** Below the broker's default {@code transaction.max.timeout.ms} of 15 minutes. */
  public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);

  private final Function<RecordFormat, ValueEncoder<T>> encoders;
  private final SerializableFunction<T, String> key;
  private String bootstrapServers;
  private String topic;
  private RecordFormat format = RecordFormat.AVRO;
  private DeliveryGuarantee deliveryGuarantee = DeliveryGuarantee.EXACTLY_ONCE;
  private String transactionalIdPrefix;
  private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
  private final Properties properties = new Properties();

  ResultSinkBuilder(
      Function<RecordFormat, ValueEncoder<T>> encoders,
      SerializableFunction<T, String> key) {
    this.encoders = encoders;
    this.key = key;
  }

  /** {@code host:port[,host:port]} of the Kafka brokers. Required. */
  public ResultSinkBuilder<T> bootstrapServers(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    return this;
  }

  /** The topic to write. Required. */
  public ResultSinkBuilder<T> topic(String topic) {
    this.topic = topic;
    return this;
  }

  /** Value encoding; Avro single-object encoding by default. */
  public ResultSinkBuilder<T> format(RecordFormat format) {
    this.format = format;
    return this;
  }

  /** EXACTLY_ONCE by default; AT_LEAST_ONCE or NONE need no transactional id prefix. */
  public ResultSinkBuilder<T> deliveryGuarantee(DeliveryGuarantee deliveryGuarantee) {
    this.deliveryGuarantee = deliveryGuarantee;
    return this;
  }

  /** Prefix of the Kafka transactional ids; unique per job. Required for EXACTLY_ONCE. */
  public ResultSinkBuilder<T> transactionalIdPrefix(String transactionalIdPrefix) {
    this.transactionalIdPrefix = transactionalIdPrefix;
    return this;
  }

  /** Kafka {@code transaction.timeout.ms}; see the class documentation. 10 minutes by default. */
  public ResultSinkBuilder<T> transactionTimeout(Duration transactionTimeout) {
    this.transactionTimeout = transactionTimeout;
    return this;
  }

  /** Any other Kafka producer property. */
  public ResultSinkBuilder<T> property(String key, String value) {
    properties.setProperty(key, value);
    return this;
  }

  public KafkaSink<T> build() {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException(
          "No Kafka brokers set; call bootstrapServers(\"host:port\")");
    }
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("No topic set; call topic(\"completions\")");
    }
    if (format == null || deliveryGuarantee == null) {
      throw new IllegalArgumentException("format and deliveryGuarantee must not be null");
    }
    if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE
        && (transactionalIdPrefix == null || transactionalIdPrefix.isBlank())) {
      throw new IllegalArgumentException(
          "EXACTLY_ONCE needs a transactional id prefix unique to this job, e.g. the job name:"
              + " call transactionalIdPrefix(\"my-job\"); jobs sharing one abort each other's"
              + " transactions");
    }
    if (transactionTimeout == null || transactionTimeout.isNegative()
        || transactionTimeout.isZero()) {
      throw new IllegalArgumentException(
          "transactionTimeout must be positive and below the broker's transaction.max.timeout.ms"
              + " (15 minutes by default), got " + transactionTimeout);
    }
    KafkaSinkBuilder<T> sink =
        KafkaSink.<T>builder()
            .setKafkaProducerConfig(properties)
            .setBootstrapServers(bootstrapServers)
            .setRecordSerializer(new KeyedRecordSerializer<>(topic, key, encoders.apply(format)))
            .setDeliveryGuarantee(deliveryGuarantee)
            .setProperty(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(transactionTimeout.toMillis()));
    if (transactionalIdPrefix != null) {
      sink.setTransactionalIdPrefix(transactionalIdPrefix);
    }
    return sink.build();
  }
}
