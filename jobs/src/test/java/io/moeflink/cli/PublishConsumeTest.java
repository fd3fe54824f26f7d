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
