package io.moeflink.connectors.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one process) running inside
 * this JVM: for tests, the local demo and {@code moe-flink kafka}. No Docker, no test kit.
 *
 * <p>It formats its data directory on first start ({@link StorageTool}) and reuses it later, so a
 * broker restarted on the same directory keeps its topics, records, committed offsets and
 * transaction state. It is configured for one node: replication factor 1 for the internal topics
 * (offsets, transactions, shares) and a small log-cleaner buffer (the default would reserve 128
 * MiB of heap).
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(dir).build().start()) {
 *   kafka.createTopic("requests", 2);
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private static final int NODE_ID = 1;

  /** A few MiB suffice for one node's compacted internal topics; the default is 128 MiB. */
  private static final long CLEANER_DEDUPE_BUFFER_BYTES = 4L * 1024 * 1024;

  private final Path dataDirectory;
  private final int port;
  private final int controllerPort;
  private final Map<String, String> overrides;
  private KafkaRaftServer server;

  private EmbeddedKafka(Builder builder) {
    this.dataDirectory = builder.dataDirectory;
    this.port = builder.port != 0 ? builder.port : freePort();
    this.controllerPort = builder.controllerPort != 0 ? builder.controllerPort : freePortOtherThan(port);
    this.overrides = Map.copyOf(builder.overrides);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Formats the data directory if it is new, then starts the broker (about two seconds). */
  public synchronized EmbeddedKafka start() {
    if (server != null) {
      throw new IllegalStateException("The broker is already running on " + bootstrapServers());
    }
    long started = System.nanoTime();
    Properties config = config();
    Path configFile = writeConfig(config);
    format(configFile);
    server = new KafkaRaftServer(KafkaConfig.fromProps(config), Time.SYSTEM);
    server.startup();
    LOG.info(
        "Kafka broker started on {} with data in {} ({} ms)",
        bootstrapServers(),
        dataDirectory,
        (System.nanoTime() - started) / 1_000_000);
    return this;
  }

  /** {@code localhost:port}, for clients. */
  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public int port() {
    return port;
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** Creates a topic with replication factor 1, unless it exists. */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("Cannot create topic " + topic, e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating topic " + topic, e);
    }
  }

  /** Topic names, internal ones excluded. */
  public Set<String> topics() {
    try (Admin admin = admin()) {
      return admin.listTopics().names().get().stream().collect(Collectors.toSet());
    } catch (ExecutionException e) {
      throw new IllegalStateException("Cannot list topics", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while listing topics", e);
    }
  }

  /** Stops the broker and waits for it; the data directory stays for the next start. */
  @Override
  public synchronized void close() {
    if (server == null) {
      return;
    }
    server.shutdown();
    server.awaitShutdown();
    server = null;
    LOG.info("Kafka broker on port {} stopped", port);
  }

  private Admin admin() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return Admin.create(props);
  }

  private Properties config() {
    Properties config = new Properties();
    config.put("process.roles", "broker,controller");
    config.put("node.id", Integer.toString(NODE_ID));
    config.put("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort);
    config.put("listeners",
        "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
    config.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
    config.put("controller.listener.names", "CONTROLLER");
    config.put("inter.broker.listener.name", "PLAINTEXT");
    config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    config.put("log.dirs", dataDirectory.resolve("logs").toString());
    config.put("num.partitions", "1");
    config.put("offsets.topic.replication.factor", "1");
    config.put("offsets.topic.num.partitions", "1");
    config.put("transaction.state.log.replication.factor", "1");
    config.put("transaction.state.log.min.isr", "1");
    config.put("transaction.state.log.num.partitions", "1");
    config.put("share.coordinator.state.topic.replication.factor", "1");
    config.put("share.coordinator.state.topic.min.isr", "1");
    config.put("group.initial.rebalance.delay.ms", "0");
    config.put("log.cleaner.dedupe.buffer.size", Long.toString(CLEANER_DEDUPE_BUFFER_BYTES));
    config.put(
        "transaction.max.timeout.ms", Long.toString(Duration.ofMinutes(15).toMillis()));
    config.putAll(overrides);
    return config;
  }

  private Path writeConfig(Properties config) {
    try {
      Files.createDirectories(dataDirectory);
      Path file = dataDirectory.resolve("server.properties");
      try (OutputStream out = Files.newOutputStream(file)) {
        config.store(out, "Written by moe-flink EmbeddedKafka at each start");
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the broker config in " + dataDirectory, e);
    }
  }

  /** Formats the storage unless an earlier start did (then the cluster id is kept). */
  private void format(Path configFile) {
    if (Files.exists(dataDirectory.resolve("logs").resolve("meta.properties"))) {
      return;
    }
    List<String> args = new ArrayList<>(List.of(
        "format", "--cluster-id", Uuid.randomUuid().toString(), "--config", configFile.toString(),
        "--ignore-formatted"));
    java.io.ByteArrayOutputStream output = new java.io.ByteArrayOutputStream();
    int exit;
    try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      exit = StorageTool.execute(args.toArray(String[]::new), print);
    }
    if (exit != 0) {
      throw new IllegalStateException(
          "Formatting Kafka storage in " + dataDirectory + " failed (exit " + exit + "): "
              + output.toString(StandardCharsets.UTF_8));
    }
  }

  /** A free port unlike {@code taken}: the OS may hand out a just-closed port again. */
  private static int freePortOtherThan(int taken) {
    int port = freePort();
    while (port == taken) {
      port = freePort();
    }
    return port;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot find a free port", e);
    }
  }

  /** Configures an {@link EmbeddedKafka}. */
  public static final class Builder {
    private Path dataDirectory;
    private int port;
    private int controllerPort;
    private final Map<String, String> overrides = new java.util.HashMap<>();

    private Builder() {}

    /** Where the broker keeps its data; reused across restarts. Required. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = dataDirectory;
      return this;
    }

    /** The client port; a free one by default. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The KRaft controller port; a free one by default. */
    public Builder controllerPort(int controllerPort) {
      this.controllerPort = controllerPort;
      return this;
    }

    /** Any other broker property. */
    public Builder property(String key, String value) {
      overrides.put(key, value);
      return this;
    }

    public EmbeddedKafka build() {
      if (dataDirectory == null) {
        throw new IllegalArgumentException(
            "No data directory set; call dataDirectory(path) (it is created if missing and reused"
                + " on restart)");
      }
      if (port < 0 || port > 65535 || controllerPort < 0 || controllerPort > 65535) {
        throw new IllegalArgumentException(
            "Ports must be in 0..65535 (0 picks a free one), got " + port + " and "
                + controllerPort);
      }
      if (port != 0 && port == controllerPort) {
        throw new IllegalArgumentException(
            "The client and controller ports must differ, both are " + port);
      }
      return new EmbeddedKafka(this);
    }
  }
}
