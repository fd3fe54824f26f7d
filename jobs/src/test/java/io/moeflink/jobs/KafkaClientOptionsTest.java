package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.jobs.KafkaClientOptions.KafkaClientSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Where the brokers come from: {@code --bootstrap}, else {@code bootstrap.servers} of {@code --kafka-properties}. */
class KafkaClientOptionsTest {

  @TempDir Path dir;

  private Path file(String... lines) throws IOException {
    return Files.write(dir.resolve("client.properties"), List.of(lines));
  }

  private static KafkaClientOptions options(String... args) {
    KafkaClientOptions options = new KafkaClientOptions();
    new CommandLine(options).parseArgs(args);
    return options;
  }

  @Test
  void bootstrapOptionWinsOverTheFileAndTheSettingsNeverCarryTheBrokers() throws IOException {
    Path file = file("bootstrap.servers=file-broker:9093", "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512");
    KafkaClientSettings settings = options("--bootstrap", "cli-broker:9092", "--kafka-properties", file.toString()).resolve();
    assertThat(settings.bootstrapServers()).isEqualTo("cli-broker:9092");
    assertThat(settings.properties()).doesNotContainKey("bootstrap.servers")
        .containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512").hasSize(2);
    assertThat(settings.clientProperties()).containsEntry("bootstrap.servers", "cli-broker:9092").hasSize(3);
  }

  @Test
  void brokersComeFromTheFileWithoutBootstrapOption() throws IOException {
    Path file = file("# from the Secret", "bootstrap.servers = a:9093,b:9093 ", "security.protocol=SSL");
    KafkaClientSettings settings = options("--kafka-properties", file.toString()).resolve();
    assertThat(settings.bootstrapServers()).isEqualTo("a:9093,b:9093");
    assertThat(settings.properties()).containsOnlyKeys("security.protocol");
    assertThat(settings.clientProperties()).containsEntry("bootstrap.servers", "a:9093,b:9093");
  }

  @Test
  void bootstrapOptionAloneNeedsNoFile() throws IOException {
    KafkaClientSettings settings = options("--bootstrap", "localhost:9092").resolve();
    assertThat(settings.bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(settings.properties()).isEmpty();
  }

  @Test
  void neitherSaysWhatToSet() throws IOException {
    assertThatThrownBy(() -> options().resolve()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--bootstrap").hasMessageContaining("--kafka-properties").hasMessageContaining("bootstrap.servers=");
    Path file = file("security.protocol=SSL", "bootstrap.servers=  ");
    assertThatThrownBy(() -> options("--kafka-properties", file.toString()).resolve()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file + " has no bootstrap.servers").hasMessageContaining("--bootstrap");
  }

  @Test
  void settingsAreCopies() throws IOException {
    KafkaClientSettings settings = options("--kafka-properties", file("bootstrap.servers=a:1", "client.id=x").toString()).resolve();
    Properties changed = settings.properties();
    changed.setProperty("bootstrap.servers", "elsewhere:1");
    settings.clientProperties().setProperty("client.id", "y");
    assertThat(settings.properties()).containsOnlyKeys("client.id").containsEntry("client.id", "x");
    assertThat(new KafkaClientSettings("a:1", changed).properties()).doesNotContainKey("bootstrap.servers");
  }

  @Test
  void streamingJobArgumentsNoLongerRequireBootstrap() throws IOException {
    StreamingJobOptions job = new StreamingJobOptions();
    new CommandLine(job).parseArgs("--kafka-properties", file("bootstrap.servers=k:9093").toString(),
        "--requests", "r", "--completions", "c", "--dead-letters", "d", "--model", "/m");
    assertThat(job.kafka.bootstrap).isNull();
    assertThat(job.kafka.resolve().bootstrapServers()).isEqualTo("k:9093");
  }

  @Test
  void streamingJobWithoutBrokersFailsAtBuild() {
    StreamingJobOptions job = new StreamingJobOptions();
    new CommandLine(job).parseArgs("--requests", "r", "--completions", "c", "--dead-letters", "d", "--model", "/m");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    assertThatThrownBy(() -> StreamingJob.build(env, job, UnaryOperator.identity()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("No Kafka brokers: pass --bootstrap");
  }
}
