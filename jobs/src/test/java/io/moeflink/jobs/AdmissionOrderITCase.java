package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Priorities and tenant shares through the streaming job: the real in-process Kafka broker, a
 * MiniCluster, the tiny generated model. Every topic has one partition, so the requests arrive in
 * the order they were published and the completions keep the order they were emitted in. (That
 * the waiting order survives a restore: GenerationOperatorTest.)
 */
class AdmissionOrderITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  @TempDir static Path tmp;
  private static EmbeddedKafka kafka;
  private static Path model;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.builder().dataDirectory(tmp.resolve("kafka")).build().start();
    model = tmp.resolve("tiny");
    ModelGenerator.builder(ModelPreset.TINY.shape()).seed(3).build().writeTo(model);
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  /** Publishes {@code requests} to a fresh topic, runs the bounded job over it, returns the completions in emission order. */
  private static List<Completion> run(List<InferenceRequest> requests, String... options) throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String in = "req-" + id;
    String out = "out-" + id;
    kafka.createTopic(in, 1);
    kafka.createTopic(out, 1);
    kafka.createTopic("dlq-" + id, 1);
    KafkaTestSupport.publish(kafka.bootstrapServers(), in, requests.stream().map(AvroMessages::encode).toList(),
        requests.stream().map(InferenceRequest::getId).toList());
    StreamingJobOptions o = new StreamingJobOptions();
    List<String> args = new ArrayList<>(List.of("--bootstrap", kafka.bootstrapServers(), "--requests", in,
        "--completions", out, "--dead-letters", "dlq-" + id, "--model", model.toString(), "--model-name", "tiny",
        "--parallelism", "1", "--expert-shards", "1", "--checkpoint-interval", "300", "--bounded", "--group-id", in));
    args.addAll(List.of(options));
    new picocli.CommandLine(o).parseArgs(args.toArray(String[]::new));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(o.generation));
    StreamingJob.build(env, o, UnaryOperator.identity());
    env.execute("admission order " + id);
    List<Completion> completions = KafkaTestSupport.readAll(kafka.bootstrapServers(), out, "read_committed").stream()
        .map(r -> (Completion) r).toList();
    assertThat(completions).hasSize(requests.size());
    return completions;
  }

  /** A greedy request of {@code maxTokens} tokens on a 6-token prompt of its own. */
  private static InferenceRequest request(String id, int n, int priority, String tenant, int maxTokens) {
    return InferenceRequest.newBuilder().setId(id).setPriority(priority).setTenant(tenant)
        .setPromptTokenIds(List.of(0, 100 + n, 2000 + n, 30000 + n, 500 + 7 * n, 9000 + n))
        .setSampling(SamplingParams.newBuilder().setMaxTokens(maxTokens).setTemperature(0f).build()).build();
  }

  @Test
  void aLateHighPriorityRequestOvertakesTheQueuedLowPriorityOnes() throws Exception {
    List<InferenceRequest> requests = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      requests.add(request("low-" + i, i, 0, null, 12));
    }
    requests.add(request("urgent", 8, 10, null, 12)); // published last
    List<String> order = run(requests, "--max-sequences", "1").stream().map(Completion::getId).toList();
    // one slot: low-0 takes it as it arrives; the others wait, and the urgent one goes next
    assertThat(order).containsExactly("low-0", "urgent", "low-1", "low-2", "low-3", "low-4", "low-5", "low-6", "low-7");
  }

  /**
   * Tenant a floods 100 requests, then b sends 20; with weights 3:1 and 4 slots, while both wait,
   * a gets three of every four slots that free up. All requests have the same length, so a slot
   * is held equally long by either tenant, and the completions come out in the order the slots
   * were granted: between b's first and last completion, a's completions are three times b's.
   * (The completions' timings count from each request's own admission, so they cannot be laid on
   * one time axis.)
   */
  @Test
  void twoTenantsAtWeightsThreeToOneGetSlotSharesOfThreeToOne() throws Exception {
    List<InferenceRequest> requests = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      requests.add(request("a-" + i, i, 0, "a", 8));
    }
    for (int i = 0; i < 20; i++) {
      requests.add(request("b-" + i, 100 + i, 0, "b", 8));
    }
    List<Completion> done = run(requests, "--max-sequences", "4", "--tenant-weights", "a=3,b=1");
    assertThat(done).allSatisfy(c -> assertThat(c.getFinishReason()).isEqualTo(FinishReason.LENGTH));
    List<String> order = done.stream().map(Completion::getId).toList();
    int first = -1;
    int last = -1;
    for (int i = 0; i < order.size(); i++) {
      if (order.get(i).startsWith("b-")) {
        first = first < 0 ? i : first;
        last = i;
      }
    }
    List<String> window = order.subList(first, last + 1);
    long a = window.stream().filter(id -> id.startsWith("a-")).count();
    long b = window.size() - a;
    double share = a / (double) b;
    System.out.printf("tenants a=3,b=1, 4 slots: while both waited (completions %d..%d) a got %d slots, b %d (%.2f:1)%n",
        first, last, a, b, share);
    assertThat(b).isEqualTo(20);
    assertThat(share).as("slot share of a to b in %s", window).isBetween(2.7, 3.3);
    // within each tenant, first come first served
    assertThat(order.stream().filter(id -> id.startsWith("b-")).toList())
        .isEqualTo(requests.subList(100, 120).stream().map(InferenceRequest::getId).toList());
  }
}
