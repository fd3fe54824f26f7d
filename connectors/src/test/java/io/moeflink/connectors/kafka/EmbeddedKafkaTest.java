package io.moeflink.connectors.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {

  @TempDir Path data;

  @Test
  void keepsTopicsAndCommittedTransactionsAcrossARestartOnTheSameDataDirectory() throws Exception {
    int port;
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(data).build().start()) {
      port = kafka.port();
      kafka.createTopic("kept", 1);
      try (KafkaProducer<String, String> producer = transactionalProducer(kafka)) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("kept", "k1", "v1"));
        producer.send(new ProducerRecord<>("kept", "k2", "v2"));
        producer.commitTransaction();
      }
    }

    try (EmbeddedKafka kafka =
        EmbeddedKafka.builder().dataDirectory(data).port(port).build().start()) {
      assertThat(kafka.topics()).contains("kept");
      assertThat(readCommitted(kafka, "kept", 2)).containsExactly("v1", "v2");
    }
  }

  @Test
  void refusesToBuildWithoutADataDirectory() {
    assertThatThrownBy(() -> EmbeddedKafka.builder().build())
        .hasMessageContaining("dataDirectory(path)");
  }

  private static KafkaProducer<String, String> transactionalProducer(EmbeddedKafka kafka) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-kafka-test");
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  private static List<String> readCommitted(EmbeddedKafka kafka, String topic, int expected) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "embedded-kafka-test");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(record.value());
        }
      }
    }
    return values;
  }
}
