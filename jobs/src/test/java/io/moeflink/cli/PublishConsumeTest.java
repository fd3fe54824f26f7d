package io.moeflink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PublishConsumeTest {

  @TempDir Path dir;

  @Test
  void publishesRequestsKeyedByIdAndConsumesThemBackAsJsonLines() throws Exception {
    Path input = dir.resolve("requests.jsonl");
    Files.writeString(input, String.join("\n",
        "{\"id\":\"a\",\"prompt\":\"Hello\",\"sampling\":{\"max_tokens\":4}}",
        "",
        "this line is not a request",
        "{\"custom_id\":\"b\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}}"));
    Path output = dir.resolve("out.jsonl");

    try (EmbeddedKafka kafka =
        EmbeddedKafka.builder().dataDirectory(dir.resolve("kafka")).build().start()) {
      kafka.createTopic("requests", 2);
      String bootstrap = kafka.bootstrapServers();
      // --bootstrap wins over the file's bootstrap.servers (nothing listens on port 1).
      Path elsewhere = Files.writeString(dir.resolve("elsewhere.properties"), "bootstrap.servers=127.0.0.1:1\n");
      assertThat(MoeFlinkCli.run("publish", "--bootstrap", bootstrap, "--kafka-properties", elsewhere.toString(),
          "--topic", "requests", "--input", input.toString())).isZero();
      // The brokers and client settings from the file alone, as on Kubernetes.
      Path client = Files.writeString(dir.resolve("client.properties"),
          "bootstrap.servers=" + bootstrap + "\nsecurity.protocol=PLAINTEXT\n");
      assertThat(MoeFlinkCli.run("consume", "--kafka-properties", client.toString(), "--topic", "requests",
          "--output", output.toString(), "--count", "2", "--timeout", "20")).isZero();
      assertThat(keys(bootstrap)).containsExactlyInAnyOrder("a", "b");
      assertThat(MoeFlinkCli.run("consume", "--bootstrap", bootstrap, "--topic", "requests",
          "--output", dir.resolve("more.jsonl").toString(), "--count", "3", "--timeout", "2"))
          .as("only two records were publishable").isEqualTo(1);
    }

    ObjectMapper json = new ObjectMapper();
    List<String> lines = Files.readAllLines(output);
    assertThat(lines).hasSize(2);
    assertThat(lines).extracting(l -> json.readTree(l).get("id").asText())
        .containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void withoutBrokersPublishAndConsumeSayWhatToSet() throws Exception {
    Path input = Files.writeString(dir.resolve("requests.jsonl"), "{\"id\":\"a\",\"prompt\":\"Hello\"}\n");
    Path noBrokers = Files.writeString(dir.resolve("tls.properties"), "security.protocol=SSL\n");
    for (String[] args : List.of(
        new String[] {"publish", "--topic", "requests", "--input", input.toString()},
        new String[] {"consume", "--kafka-properties", noBrokers.toString(), "--topic", "requests", "--output", "-"})) {
      StringWriter err = new StringWriter();
      CommandLine cli = MoeFlinkCli.commandLine();
      cli.setErr(new PrintWriter(err));
      assertThat(cli.execute(args)).as(String.join(" ", args)).isEqualTo(2);
      assertThat(err.toString()).as(String.join(" ", args)).contains("No Kafka brokers:", "--bootstrap", "bootstrap.servers");
    }
  }

  @Test
  void publishInJsonModeSendsEveryLineAsItIsInvalidUtf8Included() throws Exception {
    byte[] good = "{\"id\":\"a\",\"prompt\":\"Hello\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] badUtf8 = {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    byte[] notJson = "not json at all".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
    for (byte[] line : List.of(good, badUtf8, notJson)) {
      file.write(line);
      file.write('\n');
    }
    Path input = Files.write(dir.resolve("mixed.jsonl"), file.toByteArray());
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(dir.resolve("kafka")).build().start()) {
      kafka.createTopic("raw", 1);
      assertThat(MoeFlinkCli.run("publish", "--bootstrap", kafka.bootstrapServers(), "--topic", "raw",
          "--input", input.toString(), "--format", "json")).isZero();
      assertThat(values(kafka.bootstrapServers(), "raw", 3)).containsExactly(good, badUtf8, notJson);
    }
  }

  @Test
  void publishInAvroModeSkipsLinesThatAreNotRequestsNamingTheirLineNumbers() throws Exception {
    Path input = Files.writeString(dir.resolve("requests.jsonl"), String.join("\n",
        "{\"id\":\"a\",\"prompt\":\"Hello\"}", "not json", "{\"prompt\":\"no id\"}", "{\"id\":\"b\",\"prompt\":\"Hi\"}"));
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(dir.resolve("kafka")).build().start()) {
      kafka.createTopic("requests", 1);
      CliMistakesTest.Run run = CliMistakesTest.run("publish", "--bootstrap", kafka.bootstrapServers(), "--topic", "requests",
          "--input", input.toString());
      assertThat(run.code()).isZero();
      assertThat(run.err()).contains(input + ":2 skipped", input + ":3 skipped").doesNotContain(":1 skipped", ":4 skipped");
      assertThat(values(kafka.bootstrapServers(), "requests", 2)).hasSize(2);
    }
  }

  @Test
  void consumeWaitsForATopicThatDoesNotExistYetAndSaysSoWhenItNeverComes() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(dir.resolve("kafka")).build().start()) {
      String bootstrap = kafka.bootstrapServers();
      CliMistakesTest.assertOneLine("moe-flink consume: topic nowhere does not exist (waited 2 s): check the name",
          "consume", "--bootstrap", bootstrap, "--topic", "nowhere", "--output", dir.resolve("x.jsonl").toString(), "--timeout", "2");

      Path input = Files.writeString(dir.resolve("one.jsonl"), "{\"id\":\"late\",\"prompt\":\"Hello\"}\n");
      Thread creator = new Thread(() -> {
        try {
          Thread.sleep(1_500);
          kafka.createTopic("later", 1);
          MoeFlinkCli.run("publish", "--bootstrap", bootstrap, "--topic", "later", "--input", input.toString());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      creator.start();
      Path output = dir.resolve("later.jsonl");
      assertThat(MoeFlinkCli.run("consume", "--bootstrap", bootstrap, "--topic", "later", "--output", output.toString(),
          "--count", "1", "--timeout", "30")).isZero();
      creator.join();
      assertThat(Files.readString(output)).contains("\"late\"");
    }
  }

  private static List<byte[]> values(String bootstrap, String topic, int expected) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "values-" + topic);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<byte[]> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }

  private static List<String> keys(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "keys");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> keys = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of("requests"));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (keys.size() < 2 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
      }
    }
    return keys;
  }
}
