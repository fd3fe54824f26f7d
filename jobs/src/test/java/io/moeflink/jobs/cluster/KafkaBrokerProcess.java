package io.moeflink.jobs.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A Kafka broker in its own process ({@code bin/moe-flink kafka}) on a fixed port and data
 * directory, so that it can be killed ({@code kill -9}) and started again on the same data: its
 * topics, records, committed offsets and transactions survive.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

  private static final String READY = "Kafka broker listening on";

  private final Path launcher;
  private final Path dataDirectory;
  private final Path logDirectory;
  private final int port;
  private final int controllerPort;
  private int starts;
  private ClusterProcess process;

  /** A broker launched by {@code launcher} ({@code bin/moe-flink}), not started yet; free ports. */
  public KafkaBrokerProcess(Path launcher, Path dataDirectory, Path logDirectory) {
    this.launcher = launcher.toAbsolutePath();
    this.dataDirectory = dataDirectory.toAbsolutePath();
    this.logDirectory = logDirectory.toAbsolutePath();
    this.port = StandaloneCluster.freePort();
    this.controllerPort = StandaloneCluster.freePort();
  }

  /** Starts the broker (again) on its port and data directory; returns once it listens. */
  public KafkaBrokerProcess start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("The broker already runs: " + process);
    }
    starts++;
    List<String> command = List.of(launcher.toString(), "kafka", "--port", Integer.toString(port),
        "--controller-port", Integer.toString(controllerPort), "--data", dataDirectory.toString());
    process = ClusterProcess.start("kafka-" + starts, command, Map.of("MOE_FLINK_JAVA_OPTS", "-Xmx384m"),
        logDirectory.resolve("kafka-" + starts + ".out"));
    process.awaitOutput(READY, Duration.ofSeconds(90));
    return this;
  }

  /** {@code kill -9} of the broker process. */
  public void kill() {
    process.kill();
  }

  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public ClusterProcess process() {
    return process;
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.stop(Duration.ofSeconds(20));
    }
  }
}
