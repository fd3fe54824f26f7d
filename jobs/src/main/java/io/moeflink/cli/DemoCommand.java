package io.moeflink.cli;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.jobs.InferencePipeline;
import io.moeflink.jobs.StreamingJob;
import io.moeflink.jobs.StreamingJobOptions;
import io.moeflink.schemas.ChatMessage;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink demo}: everything in one process, nothing set up beforehand. Starts a Kafka
 * broker and a MiniCluster, makes (once, in a cache directory) a tiny random DeepSeek-V3 model with
 * the real DeepSeek-V3 tokenizer, publishes a few prompts (one of them invalid), runs the streaming
 * job with 2 expert shards and prints each completion and dead letter as it arrives.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally: embedded Kafka, MiniCluster, a small generated model.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--cache", description = "Where the demo model is kept (default: $MOE_FLINK_CACHE or ~/.cache/moe-flink).")
  Path cache;

  @Option(names = "--timeout", defaultValue = "150", description = "Give up after this many seconds (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path model = demoModel(out);
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
      o.generation.modelName = "tiny";
      o.generation.parallelism = 1;
      o.generation.expertShards = 2;
      o.generation.maxSequences = 8;
      o.generation.tokenBudget = 256;
      o.generation.backend = BackendKind.AUTO;
      o.generation.cudaDevice = -1;
      o.generation.threads = 1;
      o.generation.checkpointIntervalMillis = 1000;
      o.generation.defaultMaxTokens = 24;
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

  private Path demoModel(PrintWriter out) throws Exception {
    Path root = cache != null ? cache
        : System.getenv("MOE_FLINK_CACHE") != null ? Path.of(System.getenv("MOE_FLINK_CACHE"))
        : Path.of(System.getProperty("user.home"), ".cache", "moe-flink");
    Path dir = root.resolve("models").resolve("tiny-bf16");
    if (!Files.exists(dir.resolve("config.json"))) {
      out.println("Creating the demo model (tiny preset, real DeepSeek-V3 tokenizer) in " + dir);
      out.flush();
      ModelGenerator.builder(ModelPreset.TINY.shape()).seed(0).build().writeTo(dir);
    }
    return dir;
  }

  private static List<InferenceRequest> requests() {
    SamplingParams sampled = SamplingParams.newBuilder().setMaxTokens(20).setTemperature(0.7f).setSeed(7L).build();
    return List.of(
        chat("demo-1", "What is a mixture of experts?", null),
        chat("demo-2", "Write a haiku about stream processing.", sampled),
        InferenceRequest.newBuilder().setId("demo-3").setPrompt("The capital of France is")
            .setSampling(SamplingParams.newBuilder().setMaxTokens(12).build()).build(),
        InferenceRequest.newBuilder().setId("demo-4").setPromptTokenIds(List.of(0, 100, 2000, 30000)).build(),
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
