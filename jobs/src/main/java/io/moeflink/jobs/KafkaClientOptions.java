package io.moeflink.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Where the Kafka brokers are and how to talk to them (a picocli mixin of the streaming job,
 * {@code run}, {@code publish} and {@code consume}).
 *
 * <p>The brokers come from {@code --bootstrap} or, when it is absent, from {@code
 * bootstrap.servers} in the {@code --kafka-properties} file; with both, {@code --bootstrap} wins.
 * The file also carries the TLS/SASL settings, so on Kubernetes everything about the connection
 * comes from one mounted Secret.
 */
public final class KafkaClientOptions {

  /** The Kafka client property naming the brokers. */
  public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";

  @Option(
      names = "--bootstrap",
      paramLabel = "HOST:PORT[,HOST:PORT]",
      description = "Kafka brokers. Default: bootstrap.servers from --kafka-properties; given both, this one wins.")
  public String bootstrap;

  @Option(
      names = "--kafka-properties",
      paramLabel = "FILE",
      description = "Properties file of Kafka client settings: bootstrap.servers, security.protocol, ssl.*, sasl.*"
          + " (e.g. mounted from a Kubernetes Secret).")
  public Path kafkaProperties;

  /**
   * The brokers and the other client settings these options name.
   *
   * @throws IllegalArgumentException when neither {@code --bootstrap} nor the file's {@code
   *     bootstrap.servers} names the brokers; the message says what to set
   * @throws IOException when the properties file cannot be read
   */
  public KafkaClientSettings resolve() throws IOException {
    Properties settings = new Properties();
    if (kafkaProperties != null) {
      try (InputStream in = Files.newInputStream(kafkaProperties)) {
        settings.load(in);
      }
    }
    // Out of the settings in any case: the connector builders set the brokers themselves, and the
    // request source applies its extra properties after them, so a second copy would win there.
    String fromFile = trimmed((String) settings.remove(BOOTSTRAP_SERVERS));
    String servers = trimmed(bootstrap) != null ? trimmed(bootstrap) : fromFile;
    if (servers == null) {
      throw new IllegalArgumentException(kafkaProperties == null
          ? "No Kafka brokers: pass --bootstrap HOST:PORT, or --kafka-properties FILE with"
              + " bootstrap.servers=HOST:PORT in it"
          : "No Kafka brokers: " + kafkaProperties + " has no bootstrap.servers; add"
              + " bootstrap.servers=HOST:PORT[,HOST:PORT] to it, or pass --bootstrap HOST:PORT");
    }
    return new KafkaClientSettings(servers, settings);
  }

  private static String trimmed(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }

  /**
   * Resolved Kafka client settings: the brokers, and every other property of the file ({@code
   * bootstrap.servers} never among them).
   */
  public record KafkaClientSettings(String bootstrapServers, Properties properties) {

    public KafkaClientSettings {
      Properties copy = new Properties();
      copy.putAll(properties);
      copy.remove(BOOTSTRAP_SERVERS);
      properties = copy;
    }

    /** A copy of the settings without the brokers, for builders that take the brokers separately. */
    @Override
    public Properties properties() {
      Properties copy = new Properties();
      copy.putAll(properties);
      return copy;
    }

    /** The settings with {@code bootstrap.servers}, for a plain KafkaProducer or KafkaConsumer. */
    public Properties clientProperties() {
      Properties client = properties();
      client.setProperty(BOOTSTRAP_SERVERS, bootstrapServers);
      return client;
    }
  }
}
