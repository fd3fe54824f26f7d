package io.moeflink.cli;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import io.moeflink.engine.generate.Speculation;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.jobs.InferencePipeline;
import io.moeflink.jobs.StreamingJob;
import io.moeflink.jobs.SpeculationConverter;
import io.moeflink.jobs.StreamingJobOptions;
import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink demo}: everything in one process, nothing set up beforehand. Starts a Kafka
 * broker and a MiniCluster, publishes a few requests (one of them invalid) for the trained demo
 * model committed in {@code models/demo} (a small DeepSeek-V3 that answers "What does X mean?"
 * with a definition; {@code tools/demo-model/} trains it), runs the streaming job with 2 expert
 * shards and prints each completion and dead letter as it arrives.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally: embedded Kafka, MiniCluster, the trained demo model (models/demo).")
final class DemoCommand implements Callable<Integer> {
  /** Where the demo model is, relative to the checkout. */
  static final Path DEMO_MODEL = Path.of("models", "demo");

  @Spec CommandSpec spec;

  @Option(names = "--model", description = "Model directory (default: models/demo of this checkout).")
  Path model;

  @Option(names = "--speculative", defaultValue = "none", converter = SpeculationConverter.class,
      description = "none, or mtp to draft with the model's MTP module (the tokens stay the same). Default: ${DEFAULT-VALUE}.")
  Speculation speculative;

  @Option(names = "--timeout", defaultValue = "150", description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path model = demoModel();
    out.println("Model " + model);
    Path kafkaData = Files.createTempDirectory("moe-flink-demo-kafka");
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().dataDirectory(kafkaData).build().start()) {
      kafka.createTopic("requests", 2);
      kafka.createTopic("completions", 1);
      kafka.createTopic("dead-letters", 1);
      out.println("Kafka broker at " + kafka.bootstrapServers());
      List<InferenceRequest> requests = requests();
      publish(kafka.bootstrapServers(), requests);
      out.println("Published " + requests.size() + " requests (one of them invalid) to 'requests'");

      StreamingJobOptions o = new StreamingJobOptions();
      o.kafka.bootstrap = kafka.bootstrapServers();
      o.requests = "requests";
      o.completions = "completions";
      o.deadLetters = "dead-letters";
      o.groupId = "demo";
      o.requestFormat = "avro";
      o.generation.model = model.toString();
      o.generation.modelName = "demo";
      o.generation.speculative = speculative;
      o.generation.parallelism = 1;
      o.generation.expertShards = 2;
      o.generation.maxSequences = 8;
      o.generation.tokenBudget = 256;
      o.generation.backend = BackendKind.AUTO;
      o.generation.cudaDevice = -1;
      o.generation.threads = 1;
      o.generation.checkpointIntervalMillis = 1000;
      o.generation.defaultMaxTokens = 32;
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(o.generation));
      StreamingJob.build(env, o, UnaryOperator.identity());
      JobClient job = env.executeAsync("moe-flink demo");
      out.println("Streaming job running on a local MiniCluster (1 generation subtask, 2 expert shards)");
      out.flush();
      try {
        return awaitResults(kafka.bootstrapServers(), requests.size(), out);
      } finally {
        job.cancel().get();
      }
    }
  }

  /**
   * {@code --model}, or {@code models/demo} in the working directory, the checkout the CLI's
   * classes come from, or one of their parents.
   */
  private Path demoModel() throws Exception {
    if (model != null) {
      if (!Files.isRegularFile(model.resolve("config.json"))) {
        throw new ParameterException(spec.commandLine(), "--model " + model + ": no config.json there; give a model directory");
      }
      return model;
    }
    List<Path> starts = new ArrayList<>();
    starts.add(Path.of("").toAbsolutePath());
    starts.add(Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    for (Path start : starts) {
      for (Path dir = start; dir != null; dir = dir.getParent()) {
        if (Files.isRegularFile(dir.resolve(DEMO_MODEL).resolve("config.json"))) {
          return dir.resolve(DEMO_MODEL);
        }
      }
    }
    throw new ParameterException(spec.commandLine(),
        "no models/demo found in the working directory, the moe-flink checkout or their parents; run from the checkout or give --model DIR");
  }

  private static List<InferenceRequest> requests() {
    SamplingParams sampled = SamplingParams.newBuilder().setMaxTokens(40).setTemperature(0.7f).setSeed(7L).build();
    return List.of(
        chat("demo-1", "What does harbor mean?", null),
        chat("demo-2", "Tell me a passage from Pride and Prejudice.", sampled),
        chat("demo-3", "What does lantern mean?", null),
        InferenceRequest.newBuilder().setId("demo-4").setPrompt("It is a truth universally acknowledged")
            .setSampling(SamplingParams.newBuilder().setMaxTokens(16).build()).build(),
        InferenceRequest.newBuilder().setId("demo-5").setModel("gpt-9").setPrompt("Which model are you?").build(),
        InferenceRequest.newBuilder().setId("demo-bad").setPrompt("negative temperature")
            .setSampling(SamplingParams.newBuilder().setTemperature(-1f).build()).build());
  }

  private static InferenceRequest chat(String id, String content, SamplingParams sampling) {
    return InferenceRequest.newBuilder().setId(id)
        .setMessages(List.of(new ChatMessage("user", content))).setSampling(sampling).build();
  }

  private static void publish(String bootstrap, List<InferenceRequest> requests) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (InferenceRequest r : requests) {
        producer.send(new ProducerRecord<>("requests", r.getId().getBytes(StandardCharsets.UTF_8), AvroMessages.encode(r)));
      }
      producer.flush();
    }
  }

  private int awaitResults(String bootstrap, int expected, PrintWriter out) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-reader");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    AvroMessages avro = AvroMessages.create();
    Set<String> seen = new HashSet<>();
    long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of("completions", "dead-letters"));
      while (seen.size() < expected && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(250))) {
          SpecificRecord r = avro.decode(record.value());
          if (r instanceof Completion c && seen.add(c.getId())) {
            out.printf("completion %-8s %-6s %2d tokens  %s%n", c.getId(), c.getFinishReason(), c.getTokenIds().size(),
                c.getError() != null ? "error: " + c.getError() : "\"" + c.getText().replace("\n", "\\n") + "\"");
          } else if (r instanceof DeadLetter d && seen.add(String.valueOf(d.getRequestId()))) {
            out.printf("dead letter %-8s %s: %s%n", d.getRequestId(), d.getReason(), d.getMessage());
          }
          out.flush();
        }
      }
    }
    if (seen.size() < expected) {
      out.println("Timed out after " + timeoutSeconds + " s with " + seen.size() + " of " + expected + " results");
      return 1;
    }
    out.println("All " + expected + " requests answered: " + (expected - 1) + " completions, 1 dead letter.");
    return 0;
  }
}
