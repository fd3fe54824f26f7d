package io.moeflink.connectors.kafka;

import io.moeflink.connectors.RawRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Configures the Kafka source of requests. It emits {@link RawRecord}s, decoded later by {@link
 * io.moeflink.connectors.DecodedRequests}, so that no value can fail the source.
 *
 * <p>It reads with {@code isolation.level=read_committed} (requests written by a transactional
 * producer appear once committed) and starts from the group's committed offsets, or the earliest
 * ones for a new group. Offsets are part of Flink's checkpoints; the copy committed to Kafka is for
 * monitoring and for a job started without a checkpoint.
 */
public final class RequestSourceBuilder {

  private String bootstrapServers;
  private final List<String> topics = new ArrayList<>();
  private String groupId = "moe-flink";
  private boolean bounded;
  private final Properties properties = new Properties();

  RequestSourceBuilder() {}

  /** {@code host:port[,host:port]} of the Kafka brokers. Required. */
  public RequestSourceBuilder bootstrapServers(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    return this;
  }

  /** Topics to read requests from. At least one is required. */
  public RequestSourceBuilder topics(String... topics) {
    this.topics.addAll(List.of(topics));
    return this;
  }

  /** Consumer group for committed offsets; {@code moe-flink} by default. */
  public RequestSourceBuilder groupId(String groupId) {
    this.groupId = groupId;
    return this;
  }

  /** Stops at the offsets that are latest when the job starts: a topic read as a corpus. */
  public RequestSourceBuilder bounded() {
    this.bounded = true;
    return this;
  }

  /** Any other Kafka consumer property. */
  public RequestSourceBuilder property(String key, String value) {
    properties.setProperty(key, value);
    return this;
  }

  @SuppressWarnings("deprecation") // the connector still takes Kafka's OffsetResetStrategy
  public KafkaSource<RawRecord> build() {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException(
          "No Kafka brokers set; call bootstrapServers(\"host:port\")");
    }
    if (topics.isEmpty()) {
      throw new IllegalArgumentException("No request topic set; call topics(\"requests\")");
    }
    if (groupId == null || groupId.isBlank()) {
      throw new IllegalArgumentException("The consumer group id must not be empty");
    }
    KafkaSourceBuilder<RawRecord> source =
        KafkaSource.<RawRecord>builder()
            .setBootstrapServers(bootstrapServers)
            .setTopics(topics)
            .setGroupId(groupId)
            .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
            .setDeserializer(new RawRecordDeserializer())
            .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
            .setProperties(properties);
    if (bounded) {
      source.setBounded(OffsetsInitializer.latest());
    }
    return source.build();
  }
}
