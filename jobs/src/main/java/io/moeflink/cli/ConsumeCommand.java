package io.moeflink.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.codec.CompletionJson;
import io.moeflink.connectors.codec.DeadLetterJson;
import io.moeflink.connectors.codec.RequestJson;
import io.moeflink.jobs.KafkaClientOptions;
import io.moeflink.jobs.UsageException;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink consume}: copies a topic's committed records to a JSONL file, from the start.
 * Avro values (requests, completions, dead letters, told apart by schema fingerprint) become our
 * JSON; JSON values are copied; anything else is written with its bytes in base64. It reads with
 * {@code isolation.level=read_committed}, so it shows what exactly-once consumers see: nothing of
 * aborted transactions, and results only after the job's checkpoint commits them.
 */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    description = "Read a topic's committed records from the start into a JSONL file.")
final class ConsumeCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  /** {@code --bootstrap} and {@code --kafka-properties}, as the streaming job takes them. */
  @Mixin KafkaClientOptions kafka = new KafkaClientOptions();

  @Option(names = "--topic", required = true, description = "Topic to read.")
  String topic;

  @Option(names = "--output", required = true, paramLabel = "FILE.jsonl", description = "Where to write, '-' for stdout.")
  String output;

  @Option(names = "--count", defaultValue = "0", description = "Stop after this many records (default: no limit).")
  long count;

  @Option(
      names = "--timeout",
      defaultValue = "10",
      paramLabel = "S",
      description = "Stop after S seconds without a new record (default ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public Integer call() throws IOException, InterruptedException {
    AvroMessages avro = AvroMessages.create();
    long written = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer();
        OutputStream out = open()) {
      List<TopicPartition> partitions = awaitPartitions(consumer);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long idleSince = System.nanoTime();
      while (count == 0 || written < count) {
        boolean any = false;
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          out.write(toJson(avro, record));
          out.write('\n');
          any = true;
          if (++written == count) {
            break;
          }
        }
        if (any) {
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince > Duration.ofSeconds(timeoutSeconds).toNanos()) {
          break;
        }
      }
    }
    System.err.printf("Consumed %d records from %s into %s%n", written, topic, output);
    if (count > 0 && written < count) {
      System.err.printf("Expected %d records but none came for %d s%n", count, timeoutSeconds);
      return 1;
    }
    return 0;
  }

  /**
   * The topic's partitions, waiting up to {@code --timeout} for a topic that does not exist yet
   * (the job or a producer may be about to create it).
   */
  private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> consumer) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
    while (true) {
      List<org.apache.kafka.common.PartitionInfo> found = consumer.partitionsFor(topic, Duration.ofSeconds(5));
      if (found != null && !found.isEmpty()) {
        return found.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      }
      if (System.nanoTime() > deadline) {
        throw new UsageException("topic " + topic + " does not exist (waited " + timeoutSeconds
            + " s): check the name, or create it (moe-flink kafka --topic " + topic + ")");
      }
      Thread.sleep(250);
    }
  }

  private static byte[] toJson(AvroMessages avro, ConsumerRecord<byte[], byte[]> record)
      throws IOException {
    byte[] value = record.value() != null ? record.value() : new byte[0];
    if (AvroMessages.isSingleObject(value)) {
      try {
        SpecificRecord decoded = avro.decode(value);
        if (decoded instanceof InferenceRequest request) {
          return RequestJson.write(request);
        } else if (decoded instanceof Completion completion) {
          return CompletionJson.write(completion);
        } else if (decoded instanceof DeadLetter deadLetter) {
          return DeadLetterJson.write(deadLetter);
        }
      } catch (IOException | RuntimeException e) {
        return raw(record, value, "undecodable Avro: " + e.getMessage());
      }
    }
    try {
      return JSON.writeValueAsBytes(JSON.readTree(value));
    } catch (IOException e) {
      return raw(record, value, "neither Avro nor JSON");
    }
  }

  private static byte[] raw(ConsumerRecord<byte[], byte[]> record, byte[] value, String problem)
      throws IOException {
    ObjectNode json = JSON.createObjectNode();
    json.put("topic", record.topic()).put("partition", record.partition())
        .put("offset", record.offset()).put("problem", problem)
        .put("value_base64", Base64.getEncoder().encodeToString(value));
    return JSON.writeValueAsBytes(json);
  }

  private OutputStream open() throws IOException {
    if (output.equals("-")) {
      return new BufferedOutputStream(System.out) {
        @Override
        public void close() throws IOException {
          flush();
        }
      };
    }
    return new BufferedOutputStream(Files.newOutputStream(Path.of(output)));
  }

  private KafkaConsumer<byte[], byte[]> consumer() throws IOException {
    Properties props = KafkaClients.resolve(kafka, spec).clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // Reading must not create the topic (a broker with auto.create.topics.enable would).
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
