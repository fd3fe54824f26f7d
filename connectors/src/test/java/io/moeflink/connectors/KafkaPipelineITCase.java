package io.moeflink.connectors;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import io.moeflink.connectors.kafka.KafkaConnectors;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.KafkaPosition;
import io.moeflink.schemas.SamplingParams;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Requests through Kafka into a job and completions and dead letters out, exactly once. */
class KafkaPipelineITCase {

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER = TestMiniCluster.withTwoSlots();

  @TempDir static Path kafkaData;

  private static EmbeddedKafka kafka;

  private static final AtomicInteger TOPICS = new AtomicInteger();

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().dataDirectory(kafkaData).build().start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  @BeforeEach
  void resetTransform() {
    EchoCompletion.reset();
  }

  @Test
  void completesEveryRequestExactlyOnceAcrossAnInjectedFailure() throws Exception {
    String requests = topic("requests", 2);
    String completions = topic("completions", 1);
    String deadLetters = topic("dead-letters", 1);
    List<String> ids = IntStream.range(0, 300).mapToObj(i -> String.format("r%03d", i)).toList();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (String id : ids) {
      InferenceRequest request = InferenceRequest.newBuilder().setId(id).setPrompt("echo " + id)
          .build();
      records.add(new ProducerRecord<>(requests, utf8(id), AvroMessages.encode(request)));
    }
    TestTopics.publish(kafka, requests, records);

    run(requests, completions, deadLetters, RequestDecoder.builder().build(),
        new EchoCompletion(100, 8));

    assertThat(EchoCompletion.FAILED).as("the failure was injected").isTrue();
    List<ConsumerRecord<byte[], byte[]>> committed =
        TestTopics.readAll(kafka, completions, "read_committed");
    assertThat(committed).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
        .containsExactlyInAnyOrderElementsOf(ids);
    for (ConsumerRecord<byte[], byte[]> record : committed) {
      Completion completion = (Completion) AvroMessages.create().decode(record.value());
      assertThat(completion.getText()).isEqualTo("echo " + completion.getId());
    }
    // The replay: records after the restored checkpoint went through the job twice. Whether the
    // aborted attempt's copies reached the broker before the failure depends on the producer's
    // timing, so the uncommitted count is only bounded below here; StreamingJobITCase, whose
    // model keeps records in flight longer, asserts the aborted copies as well.
    assertThat(EchoCompletion.PROCESSED.get()).as("records processed, the replayed ones twice")
        .isGreaterThan(ids.size());
    assertThat(TestTopics.readAll(kafka, completions, "read_uncommitted"))
        .as("records of the aborted attempt, replayed after the restore")
        .hasSizeGreaterThanOrEqualTo(ids.size());
    assertThat(TestTopics.readAll(kafka, deadLetters, "read_committed")).isEmpty();
  }

  @Test
  void turnsEveryBadAvroRecordIntoOneDeadLetterAndResolvesAnOlderWriterSchema()
      throws Exception {
    String requests = topic("requests", 1);
    String completions = topic("completions", 1);
    String deadLetters = topic("dead-letters", 1);
    Schema previous = previousRequestSchema();
    InferenceRequest good = InferenceRequest.newBuilder().setId("avro-good").setPrompt("hi")
        .build();
    GenericRecord old = new GenericRecordBuilder(previous).set("id", "avro-old")
        .set("prompt", "from an older producer").build();
    byte[] random = new byte[40];
    new Random(11).nextBytes(random);
    byte[] encodedGood = AvroMessages.encode(good);
    byte[] unknownSchema = encodedGood.clone();
    unknownSchema[4] ^= 0x21;
    byte[] oversized = AvroMessages.encode(InferenceRequest.newBuilder(good)
        .setId("avro-huge").setPrompt("z".repeat(BadInputs.MAX_RECORD_BYTES)).build());
    List<byte[]> values = List.of(
        encodedGood,
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), previous).encode(old).array(),
        random,
        unknownSchema,
        Arrays.copyOf(encodedGood, 14),
        new byte[0],
        AvroMessages.encode(InferenceRequest.newBuilder(good).setId("avro-hot")
            .setSampling(SamplingParams.newBuilder().setTemperature(-2f).build()).build()),
        AvroMessages.encode(InferenceRequest.newBuilder(good).setId("avro-empty")
            .setPrompt(null).build()),
        oversized);
    List<DeadLetterReason> reasons = Arrays.asList(null, null,
        DeadLetterReason.UNDECODABLE, DeadLetterReason.UNKNOWN_SCHEMA,
        DeadLetterReason.UNDECODABLE, DeadLetterReason.UNDECODABLE,
        DeadLetterReason.INVALID_SAMPLING, DeadLetterReason.NO_PROMPT,
        DeadLetterReason.OVERSIZED);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    values.forEach(v -> records.add(new ProducerRecord<>(requests, 0, null, v)));
    TestTopics.publish(kafka, requests, records);

    RequestDecoder decoder = RequestDecoder.builder().maxRecordBytes(BadInputs.MAX_RECORD_BYTES)
        .writerSchemas(previous).build();
    run(requests, completions, deadLetters, decoder, new EchoCompletion());

    assertThat(TestTopics.readAll(kafka, completions, "read_committed"))
        .extracting(r -> ((Completion) decode(r)).getText())
        .containsExactlyInAnyOrder("hi", "from an older producer");
    List<DeadLetter> dead = TestTopics.readAll(kafka, deadLetters, "read_committed").stream()
        .map(r -> (DeadLetter) decode(r)).toList();
    assertThat(dead).hasSize(7);
    for (DeadLetter letter : dead) {
      int offset = (int) ((KafkaPosition) letter.getSource()).getOffset();
      assertThat(letter.getReason()).as("offset %d", offset).isEqualTo(reasons.get(offset));
      byte[] sent = values.get(offset);
      assertThat(letter.getOriginalSize()).isEqualTo(sent.length);
      assertThat(letter.getOriginal()).isEqualTo(ByteBuffer.wrap(
          Arrays.copyOf(sent, Math.min(sent.length, BadInputs.MAX_RECORD_BYTES))));
    }
    assertThat(dead).extracting(d -> ((KafkaPosition) d.getSource()).getOffset())
        .containsExactlyInAnyOrder(2L, 3L, 4L, 5L, 6L, 7L, 8L);
  }

  private static void run(String requests, String completions, String deadLetters,
      RequestDecoder decoder, EchoCompletion transform) throws Exception {
    Configuration config = new Configuration();
    config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    env.setParallelism(2);
    env.enableCheckpointing(200);
    DecodedRequests decoded = DecodedRequests.decode(
        env.fromSource(
            KafkaConnectors.requestSource().bootstrapServers(kafka.bootstrapServers())
                .topics(requests).groupId(requests).bounded().build(),
            WatermarkStrategy.noWatermarks(), "requests"),
        decoder);
    decoded.requests().map(transform, Contracts.completions()).name("echo")
        .sinkTo(KafkaConnectors.completionSink().bootstrapServers(kafka.bootstrapServers())
            .topic(completions).transactionalIdPrefix(completions)
            .transactionTimeout(Duration.ofMinutes(1)).build());
    decoded.deadLetters()
        .sinkTo(KafkaConnectors.deadLetterSink().bootstrapServers(kafka.bootstrapServers())
            .topic(deadLetters).transactionalIdPrefix(deadLetters)
            .transactionTimeout(Duration.ofMinutes(1)).build());
    env.execute("kafka pipeline " + requests);
  }

  private static SpecificRecord decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      return AvroMessages.create().decode(record.value());
    } catch (Exception e) {
      throw new AssertionError("Cannot decode a record of " + record.topic(), e);
    }
  }

  private static String topic(String kind, int partitions) {
    String name = kind + "-" + TOPICS.incrementAndGet();
    kafka.createTopic(name, partitions);
    return name;
  }

  private static Schema previousRequestSchema() throws Exception {
    try (InputStream in = KafkaPipelineITCase.class.getResourceAsStream(
        "/previous/InferenceRequest.avsc")) {
      return new Schema.Parser().parse(in);
    }
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
