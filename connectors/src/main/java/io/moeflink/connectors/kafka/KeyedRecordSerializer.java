package io.moeflink.connectors.kafka;

import io.moeflink.connectors.ValueEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes each record to one topic, keyed by a string (the request id), so that all results of a
 * request land in one partition and compacted topics keep the latest per request.
 */
final class KeyedRecordSerializer<T> implements KafkaRecordSerializationSchema<T> {

  private static final long serialVersionUID = 1L;

  private final String topic;

  /** The record's key; null leaves partitioning to the producer. */
  private final SerializableFunction<T, String> key;

  private final ValueEncoder<T> value;

  KeyedRecordSerializer(String topic, SerializableFunction<T, String> key, ValueEncoder<T> value) {
    this.topic = topic;
    this.key = key;
    this.value = value;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      T element, KafkaSinkContext context, Long timestamp) {
    String k = key.apply(element);
    return new ProducerRecord<>(
        topic,
        null,
        timestamp,
        k != null ? k.getBytes(StandardCharsets.UTF_8) : null,
        value.encode(element));
  }
}
