package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.connectors.kafka.EmbeddedKafka;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import io.moeflink.schemas.DeadLetterReason;
import io.moeflink.schemas.FinishReason;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming job end to end: a real in-process Kafka broker, a MiniCluster with two
 * TaskManagers, the tiny generated model with the real tokenizer.
 */
class StreamingJobITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());

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

  private record Topics(String requests, String completions, String deadLetters) {
    static Topics fresh() {
      String id = UUID.randomUUID().toString().substring(0, 8);
      Topics t = new Topics("req-" + id, "out-" + id, "dlq-" + id);
      kafka.createTopic(t.requests, 2);
      kafka.createTopic(t.completions, 2);
      kafka.createTopic(t.deadLetters, 1);
      return t;
    }
  }

  private static StreamingJobOptions options(Topics t, int g, int s) {
    return options(t, g, s, "--bootstrap", kafka.bootstrapServers());
  }

  /** The job's options with {@code kafkaArgs} (--bootstrap, --kafka-properties) naming the brokers. */
  private static StreamingJobOptions options(Topics t, int g, int s, String... kafkaArgs) {
    StreamingJobOptions o = new StreamingJobOptions();
    picocli.CommandLine cli = new picocli.CommandLine(o);
    List<String> args = new ArrayList<>(List.of(kafkaArgs));
    args.addAll(List.of("--requests", t.requests, "--completions", t.completions,
        "--dead-letters", t.deadLetters, "--model", model.toString(), "--model-name", "tiny", "--parallelism", String.valueOf(g),
        "--expert-shards", String.valueOf(s), "--checkpoint-interval", "300", "--bounded", "--group-id", t.requests));
    cli.parseArgs(args.toArray(String[]::new));
    return o;
  }

  /** A Kafka client properties file (as mounted from the Secret on Kubernetes) naming {@code brokers}. */
  private static String clientProperties(String brokers) throws IOException {
    Path file = tmp.resolve("client-" + UUID.randomUUID() + ".properties");
    Files.writeString(file, "bootstrap.servers=" + brokers + "\nsecurity.protocol=PLAINTEXT\n");
    return file.toString();
  }

  private static StreamExecutionEnvironment environment(StreamingJobOptions o) {
    return StreamExecutionEnvironment.getExecutionEnvironment(InferencePipeline.configuration(o.generation));
  }

  private static void publish(Topics t, List<InferenceRequest> requests) {
    KafkaTestSupport.publish(kafka.bootstrapServers(), t.requests,
        requests.stream().map(AvroMessages::encode).toList(), requests.stream().map(InferenceRequest::getId).toList());
  }

  private static List<Completion> completions(Topics t, String isolation) throws Exception {
    return KafkaTestSupport.readAll(kafka.bootstrapServers(), t.completions, isolation).stream().map(r -> (Completion) r).toList();
  }

  private static Map<String, byte[]> reference;

  /** A failure-free run of the recovery requests (computed once). */
  private static synchronized Map<String, byte[]> reference() throws Exception {
    if (reference == null) {
      Topics t = Topics.fresh();
      publish(t, TestRequests.ofGrowingLength(16));
      StreamExecutionEnvironment env = environment(options(t, 2, 2));
      StreamingJob.build(env, options(t, 2, 2), UnaryOperator.identity());
      env.execute("reference");
      reference = KafkaTestSupport.contentById(completions(t, "read_committed"));
      assertThat(reference).hasSize(16);
    }
    return reference;
  }

  @Test
  void turnsEveryRecordIntoExactlyOneCompletionOrDeadLetter() throws Exception {
    Topics t = Topics.fresh();
    List<InferenceRequest> good = TestRequests.good(7);
    publish(t, good);
    InferenceRequest unknownModel = InferenceRequest.newBuilder().setId("unknown-model").setModel("gpt-9").setPrompt("hi").build();
    InferenceRequest tooLong = InferenceRequest.newBuilder().setId("too-long").setPrompt("x")
        .setSampling(SamplingParams.newBuilder().setMaxTokens(1_000_000).build()).build();
    publish(t, List.of(unknownModel, tooLong));
    InferenceRequest badSampling = InferenceRequest.newBuilder().setId("bad-temp").setPrompt("x")
        .setSampling(SamplingParams.newBuilder().setTemperature(-1f).build()).build();
    KafkaTestSupport.publish(kafka.bootstrapServers(), t.requests,
        List.of("not avro at all".getBytes(StandardCharsets.UTF_8), AvroMessages.encode(badSampling),
            Arrays.copyOf(AvroMessages.encode(unknownModel), 12)),
        List.of("junk", "bad-temp", "truncated"));

    // The brokers from the properties file only, as the Kubernetes manifests pass them.
    StreamingJobOptions o = options(t, 2, 2, "--kafka-properties", clientProperties(kafka.bootstrapServers()));
    StreamExecutionEnvironment env = environment(o);
    StreamingJob.build(env, o, UnaryOperator.identity());
    env.execute("streaming job");

    List<Completion> completions = completions(t, "read_committed");
    assertThat(completions).extracting(Completion::getId).containsExactlyInAnyOrder(
        "r00", "r01", "r02", "r03", "r04", "r05", "r06", "unknown-model", "too-long");
    for (Completion c : completions) {
      if (c.getId().startsWith("r")) {
        assertThat(c.getFinishReason()).as(c.getId()).isIn(FinishReason.LENGTH, FinishReason.STOP);
        assertThat(c.getTokenIds()).isNotEmpty();
        assertThat(c.getUsage().getCompletionTokens()).isEqualTo(c.getTokenIds().size());
        assertThat(c.getMetadata()).containsKey("i");
        assertThat(c.getModel()).isEqualTo("tiny");
      } else {
        assertThat(c.getFinishReason()).as(c.getId()).isEqualTo(FinishReason.ERROR);
        assertThat(c.getError()).isNotBlank();
      }
    }
    List<SpecificRecord> dead = KafkaTestSupport.readAll(kafka.bootstrapServers(), t.deadLetters, "read_committed");
    assertThat(dead).hasSize(3);
    assertThat(dead).extracting(d -> ((DeadLetter) d).getReason())
        .contains(DeadLetterReason.INVALID_SAMPLING);
  }

  /**
   * Stops the job with a savepoint, retrying while a task is not running yet (a savepoint needs
   * every task up, and a task may be restarting after a transient broker error).
   */
  private static String stopWithSavepoint(JobClient job, Path dir) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return job.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL).get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (attempt == 20) {
          throw e;
        }
        Thread.sleep(250);
      }
    }
  }

  /** Fails the job a few times, each time after a few completions passed (test-only injector). */
  static final class FailAfter extends RichMapFunction<Completion, Completion> {
    private static final long serialVersionUID = 1L;
    private static final int[] FAIL_AT = {2, 4, 3}; // per attempt: completions seen by subtask 0
    private transient int seen;
    private transient int attempt;
    private transient int subtask;

    @Override
    public void open(OpenContext context) {
      attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
      subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    @Override
    public Completion map(Completion c) {
      if (subtask == 0 && attempt < FAIL_AT.length && ++seen == FAIL_AT[attempt]) {
        throw new IllegalStateException("Injected failure " + (attempt + 1) + " mid-generation");
      }
      return c;
    }
  }

  @Test
  void recoversFromRepeatedFailuresExactlyOnceWithIdenticalCompletions() throws Exception {
    Map<String, byte[]> expected = reference();
    Topics t = Topics.fresh();
    publish(t, TestRequests.ofGrowingLength(16));
    // --bootstrap wins over the file's bootstrap.servers, in the source and both sinks (nothing listens on port 1).
    StreamingJobOptions o = options(t, 2, 2, "--bootstrap", kafka.bootstrapServers(), "--kafka-properties", clientProperties("127.0.0.1:1"));
    StreamExecutionEnvironment env = environment(o);
    StreamingJob.build(env, o, completions -> completions.map(new FailAfter(), completions.getType()).name("failure injector"));
    env.execute("streaming job with failures");

    Map<String, byte[]> committed = KafkaTestSupport.contentById(completions(t, "read_committed"));
    assertThat(committed.keySet()).isEqualTo(expected.keySet());
    for (String id : expected.keySet()) {
      assertThat(committed.get(id)).as("completion %s after recovery", id).isEqualTo(expected.get(id));
    }
    assertThat(completions(t, "read_uncommitted").size()).as("aborted attempts left records behind")
        .isGreaterThan(expected.size());
  }

  @Test
  void restoresWithAnotherParallelismAndFinishesIdentically(@TempDir Path savepoints) throws Exception {
    Map<String, byte[]> expected = reference();
    Topics t = Topics.fresh();
    publish(t, TestRequests.ofGrowingLength(16));
    StreamingJobOptions o = options(t, 2, 2);
    o.bounded = false; // stop-with-savepoint, then continue elsewhere
    StreamExecutionEnvironment env = environment(o);
    StreamingJob.build(env, o, UnaryOperator.identity());
    JobClient job = env.executeAsync("before rescale");
    long deadline = System.currentTimeMillis() + 60_000;
    while (KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_uncommitted") < 1
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    String savepoint = stopWithSavepoint(job, savepoints);
    int committedBefore = completions(t, "read_committed").size();
    assertThat(committedBefore).as("in flight at the savepoint").isLessThan(16);

    StreamingJobOptions rescaled = options(t, 1, 3);
    org.apache.flink.configuration.Configuration restore = InferencePipeline.configuration(rescaled.generation);
    restore.setString("execution.state-recovery.path", savepoint);
    StreamExecutionEnvironment env2 = StreamExecutionEnvironment.getExecutionEnvironment(restore);
    rescaled.bounded = false;
    StreamingJob.build(env2, rescaled, UnaryOperator.identity());
    JobClient resumed = env2.executeAsync("after rescale");
    deadline = System.currentTimeMillis() + 90_000;
    while (completions(t, "read_committed").size() < 16 && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
    }
    resumed.cancel().get();
    Map<String, byte[]> committed = KafkaTestSupport.contentById(completions(t, "read_committed"));
    assertThat(committed.keySet()).isEqualTo(expected.keySet());
    for (String id : expected.keySet()) {
      assertThat(committed.get(id)).as("completion %s after the rescaled restore", id).isEqualTo(expected.get(id));
    }
  }
}
