package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.Timings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Publishes and reads raw records for the job tests. */
final class KafkaTestSupport {
  private KafkaTestSupport() {}

  static void publish(String bootstrap, String topic, List<byte[]> values, List<String> keys) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < values.size(); i++) {
        producer.send(new ProducerRecord<>(topic, keys.get(i).getBytes(StandardCharsets.UTF_8), values.get(i)));
      }
      producer.flush();
    }
  }

  /** Everything in {@code topic} under the isolation level, read until it stays quiet for a second. */
  static List<SpecificRecord> readAll(String bootstrap, String topic, String isolation) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    AvroMessages avro = AvroMessages.create();
    List<SpecificRecord> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(i -> new TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long quietSince = System.currentTimeMillis();
      while (System.currentTimeMillis() - quietSince < 1500) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(avro.decode(r.value()));
          quietSince = System.currentTimeMillis();
        }
      }
    }
    return out;
  }

  /** How many records {@code topic} holds under the isolation level, read quickly (no quiet wait). */
  static int count(String bootstrap, String topic, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(i -> new TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      int n = 0;
      for (int i = 0; i < 3; i++) {
        n += consumer.poll(Duration.ofMillis(50)).count();
      }
      return n;
    }
  }

  /** Completions by id, their bytes without timings; fails on a duplicate id. */
  static Map<String, byte[]> contentById(List<Completion> completions) {
    Map<String, byte[]> out = new HashMap<>();
    for (Completion c : completions) {
      assertThat(out.put(c.getId(), contentBytes(c))).as("duplicate completion %s", c.getId()).isNull();
    }
    return out;
  }

  /** Creates {@code topic} with replication factor 1. */
  static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    }
  }

  /** A completion's bytes without its timings (wall-clock figures differ between runs). */
  static byte[] contentBytes(Completion c) {
    Completion copy = Completion.newBuilder(c).setTimings(new Timings(0L, 0L, 0L)).build();
    return AvroMessages.encode(copy);
  }
}
