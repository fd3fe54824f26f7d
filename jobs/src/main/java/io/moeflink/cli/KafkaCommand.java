package io.moeflink.cli;

import io.moeflink.connectors.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moe-flink kafka}: a real single-node Kafka broker for the demo and for trying the job by
 * hand, with nothing to install. It runs until killed and keeps its data in {@code --data}, so a
 * restart on the same directory finds its topics, records and committed offsets again.
 */
@Command(
    name = "kafka",
    mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka broker (KRaft) in this process until killed.")
final class KafkaCommand implements Callable<Integer> {

  @Option(names = "--port", defaultValue = "9092", description = "Client port (default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--controller-port",
      defaultValue = "0",
      description = "KRaft controller port (default: --port + 1).")
  int controllerPort;

  @Option(names = "--data", required = true, description = "Data directory, reused on restart.")
  Path data;

  @Option(
      names = "--topic",
      paramLabel = "NAME[:PARTITIONS]",
      description = "Topic to create at start unless it exists (repeatable).")
  List<String> topics = List.of();

  @Override
  public Integer call() throws InterruptedException {
    EmbeddedKafka kafka =
        EmbeddedKafka.builder()
            .dataDirectory(data)
            .port(port)
            .controllerPort(controllerPort != 0 ? controllerPort : port + 1)
            .build()
            .start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      kafka.close();
      stopped.countDown();
    }, "kafka-shutdown"));
    for (String topic : topics) {
      String[] parts = topic.split(":", 2);
      kafka.createTopic(parts[0], parts.length == 2 ? Integer.parseInt(parts[1]) : 1);
    }
    System.out.println("Kafka broker listening on " + kafka.bootstrapServers() + " with data in "
        + data.toAbsolutePath() + "; stop it with Ctrl-C");
    stopped.await();
    return 0;
  }
}
