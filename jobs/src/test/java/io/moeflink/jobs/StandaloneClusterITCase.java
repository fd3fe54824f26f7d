package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.jobs.cluster.FlinkRest;
import io.moeflink.jobs.cluster.KafkaBrokerProcess;
import io.moeflink.jobs.cluster.StandaloneCluster;
import io.moeflink.jobs.cluster.StandaloneCluster.TaskManager;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.util.zip.ZipFile;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The jobs on a real standalone Flink cluster: a JobManager and TaskManagers in separate JVMs on
 * Flink's own class path, the shaded job jar submitted with {@code flink run}, a Kafka broker in its
 * own process ({@link StandaloneCluster}, {@link KafkaBrokerProcess}). TaskManagers and the broker
 * are killed with {@code kill -9}; every request must still come out exactly once ({@code
 * read_committed}), byte for byte as in a run without failures. The tests share one session
 * cluster, as its users would: every job runs on TaskManagers that earlier jobs ran on (or on the
 * replacements of killed ones). Logs of every process stay in {@code target/cluster-its/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterITCase {

  private static final String STREAMING_JOB = "io.moeflink.jobs.StreamingJob";
  private static final Path LAUNCHER = Path.of("").toAbsolutePath().getParent().resolve("bin/moe-flink");
  /** Requests of the failure tests; their failure-free completions are the reference. */
  private static final int REQUESTS = 16;
  private static final int TASK_MANAGER_KILLS = 3;
  private static final Duration REPLACEMENT_DELAY = Duration.ofSeconds(2);
  /** The class of the job class loaders Flink creates (child-first, its default). */
  private static final String USER_CLASS_LOADER = "org.apache.flink.util.ChildFirstClassLoader";
  /** Job class loaders a TaskManager may keep after its jobs ended (see liveUserClassLoaders). */
  private static final long RETAINED_CLASS_LOADERS = 2;
  /** Thread pools of Flink and the JVM whose size varies by itself (names with numbers as #). */
  private static final java.util.regex.Pattern ELASTIC_POOLS =
      java.util.regex.Pattern.compile("flink-|C# CompilerThread|G# |GC Thread|VM Periodic|Attach Listener");
  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);

  private static Path work;
  private static Path model;
  private static KafkaBrokerProcess kafka;
  private static StandaloneCluster cluster;
  /** Completions of {@link #REQUESTS} requests without failures (by id, timings zeroed). */
  private static Map<String, byte[]> reference;
  private final List<String> jobs = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    work = Path.of("target", "cluster-its",
        "StandaloneClusterITCase-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))).toAbsolutePath();
    model = work.resolve("tiny");
    ModelGenerator.builder(ModelPreset.TINY.shape()).seed(3).build().writeTo(model);
    kafka = new KafkaBrokerProcess(LAUNCHER, work.resolve("kafka"), work.resolve("log")).start();
    cluster = StandaloneCluster.builder(work).build().start();
  }

  @BeforeEach
  void twoTaskManagers() {
    int running = cluster.taskManagers().size();
    if (running < 2) {
      cluster.startTaskManagers(2 - running);
    }
  }

  @AfterEach
  void cancelJobs() {
    for (String job : jobs) {
      if (!Set.of("FINISHED", "CANCELED", "FAILED").contains(cluster.rest().jobState(job))) {
        cluster.rest().cancel(job, Duration.ofSeconds(30));
      }
    }
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  @Order(1)
  @Timeout(240)
  void runsTheStreamingJobOnTwoTaskManagersExactlyOnceWithGenerationSpreadOverThem() throws Exception {
    Topics t = Topics.fresh();
    publish(t, TestRequests.ofGrowingLength(REQUESTS));
    String job = submit(t, true);
    FlinkRest.await("every subtask running", JOB_TIMEOUT, () -> cluster.rest().isFullyRunning(job));

    Map<String, List<String>> placement = cluster.rest().subtaskTaskManagers(job);
    List<String> generation = placement.entrySet().stream().filter(e -> e.getKey().contains("generation"))
        .findFirst().orElseThrow(() -> new AssertionError("no generation vertex in " + placement.keySet())).getValue();
    assertThat(new HashSet<>(generation)).as("TaskManagers of the generation subtasks (%s)", placement)
        .hasSize(2).containsExactlyInAnyOrderElementsOf(cluster.taskManagers().stream().map(TaskManager::resourceId).toList());

    cluster.rest().awaitState(job, Set.of("FINISHED"), JOB_TIMEOUT);
    Map<String, byte[]> committed = KafkaTestSupport.contentById(completions(t, "read_committed"));
    assertThat(committed.keySet()).containsExactlyInAnyOrderElementsOf(ids(REQUESTS));
    reference = committed;
  }

  @Test
  @Order(2)
  @Timeout(300)
  void survivesRepeatedTaskManagerKillsExactlyOnceWithIdenticalCompletions() throws Exception {
    Map<String, byte[]> expected = reference();
    Topics t = Topics.fresh();
    List<List<InferenceRequest>> waves = waves(TestRequests.ofGrowingLength(REQUESTS), TASK_MANAGER_KILLS + 1);
    String job = submit(t, false);
    for (int kill = 0; kill < TASK_MANAGER_KILLS; kill++) {
      int before = KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_uncommitted");
      publish(t, waves.get(kill));
      FlinkRest.await("every subtask running", JOB_TIMEOUT, () -> cluster.rest().isFullyRunning(job));
      FlinkRest.await("completions of wave " + kill, JOB_TIMEOUT,
          () -> KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_uncommitted") > before);
      TaskManager victim = busiestTaskManager(job);
      long restartsBefore = cluster.rest().restarts(job);
      long killed = System.nanoTime();
      cluster.kill(victim);
      long[] registered = new long[1];
      CompletableFuture<TaskManager> replacement = CompletableFuture.supplyAsync(() -> {
        sleep(REPLACEMENT_DELAY);
        TaskManager tm = cluster.startTaskManager();
        registered[0] = System.nanoTime();
        return tm;
      });
      FlinkRest.await("a restart after the kill", JOB_TIMEOUT, () -> cluster.rest().restarts(job) > restartsBefore);
      FlinkRest.await("every subtask running again", JOB_TIMEOUT, () -> cluster.rest().isFullyRunning(job));
      double recovered = (System.nanoTime() - killed) / 1e9;
      String replaced = replacement.join().resourceId();
      System.out.printf("[cluster] kill %d: %s (its subtasks running elsewhere after %.1f s), replaced by %s"
          + " registered %.1f s after the kill; %d restarts so far%n", kill + 1, victim.resourceId(), recovered, replaced,
          (registered[0] - killed) / 1e9, cluster.rest().restarts(job));
    }
    publish(t, waves.get(TASK_MANAGER_KILLS));
    awaitCommitted(t, REQUESTS);
    long restarts = cluster.rest().restarts(job);
    System.out.printf("[cluster] %d TaskManager kills, %d restarts (exponential delay: unlimited); failures: %s%n",
        TASK_MANAGER_KILLS, restarts, cluster.rest().failures(job));
    cluster.rest().cancel(job, Duration.ofSeconds(30));

    assertThat(restarts).as("restarts after %d kills", TASK_MANAGER_KILLS).isGreaterThanOrEqualTo(TASK_MANAGER_KILLS);
    assertThat(Files.readString(cluster.logDirectory().resolve("jobmanager.log")))
        .contains("ExponentialDelayRestartBackoffTimeStrategy");
    assertIdentical(expected, t);
  }

  @Test
  @Order(3)
  @Timeout(240)
  void survivesAKillOfTheKafkaBrokerExactlyOnceWithIdenticalCompletions() throws Exception {
    Map<String, byte[]> expected = reference();
    Topics t = Topics.fresh();
    publish(t, TestRequests.ofGrowingLength(REQUESTS));
    String job = submit(t, false);
    FlinkRest.await("first completions", JOB_TIMEOUT,
        () -> KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_uncommitted") > 0);
    long killed = System.nanoTime();
    kafka.kill();
    Thread.sleep(REPLACEMENT_DELAY.toMillis());
    kafka.start();
    System.out.printf("[cluster] broker killed and restarted on its data directory in %.1f s%n",
        (System.nanoTime() - killed) / 1e9);
    awaitCommitted(t, REQUESTS);
    System.out.printf("[cluster] broker kill: %d restarts; failures: %s%n", cluster.rest().restarts(job),
        cluster.rest().failures(job));
    cluster.rest().cancel(job, Duration.ofSeconds(30));
    assertIdentical(expected, t);
  }

  @Test
  @Order(4)
  @Timeout(240)
  void resumesACancelledJobInASecondJobOnTheSameTaskManagersAndFreesTheFirst() throws Exception {
    assumeResubmittable();
    Map<String, byte[]> expected = reference();
    List<TaskManager> taskManagers = cluster.taskManagers();
    Topics t = Topics.fresh();
    publish(t, TestRequests.ofGrowingLength(REQUESTS));
    String first = submit(t, false);
    awaitCommitted(t, 1);
    cluster.rest().cancel(first, Duration.ofSeconds(30));
    String checkpoint = cluster.rest().latestCheckpointPath(first).orElseThrow();
    assertThat(KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_committed"))
        .as("committed when cancelled").isLessThan(REQUESTS);
    Map<String, Long> loadersAfterFirst = liveUserClassLoaders(taskManagers, "after the first job");
    Map<String, Map<String, Integer>> threadsAfterFirst = threadNames(taskManagers);

    String second = submit(t, checkpoint, false);
    awaitCommitted(t, REQUESTS);
    cluster.rest().cancel(second, Duration.ofSeconds(30));

    assertIdentical(expected, t);
    Map<String, Long> loadersAfterSecond = liveUserClassLoaders(taskManagers, "after the second job");
    for (String tm : loadersAfterSecond.keySet()) {
      assertThat(loadersAfterSecond.get(tm)).as("job class loaders in %s after the second job", tm)
          .isLessThanOrEqualTo(loadersAfterFirst.get(tm));
    }
    assertThat(threadNames(taskManagers)).as("threads of the TaskManagers after the second job vs after the first")
        .isEqualTo(threadsAfterFirst);
  }

  @Test
  @Order(5)
  @Timeout(240)
  void runsTheCorpusJobAfterTheStreamingJobOnTheSameTaskManagersWithTheSameCompletions() throws Exception {
    assumeResubmittable();
    List<TaskManager> taskManagers = cluster.taskManagers();
    List<InferenceRequest> requests = TestRequests.good(8);
    Topics t = Topics.fresh();
    publish(t, requests);
    cluster.rest().awaitState(submit(t, true), Set.of("FINISHED"), JOB_TIMEOUT);
    Map<String, byte[]> streamed = KafkaTestSupport.contentById(completions(t, "read_committed"));

    Path input = Files.createDirectories(work.resolve("corpus-" + t.requests));
    writeAvro(input.resolve("part-0.avro"), requests.subList(0, 4));
    writeAvro(input.resolve("part-1.avro"), requests.subList(4, 8));
    Path output = work.resolve("corpus-out-" + t.requests);
    // A glob, not the directory: the corpus job picks the Avro reader when the input names .avro files.
    String corpus = cluster.submit("io.moeflink.jobs.CorpusJob", List.of("--input", input.resolve("*.avro").toString(),
        "--output", output.toString(), "--format", "avro", "--model", model.toString(), "--model-name", "tiny",
        "--parallelism", "2", "--expert-shards", "2", "--checkpoint-interval", "500"));
    jobs.add(corpus);
    cluster.rest().awaitState(corpus, Set.of("FINISHED"), JOB_TIMEOUT);

    Map<String, byte[]> corpusCompletions = KafkaTestSupport.contentById(readAvro(output));
    assertThat(corpusCompletions.keySet()).containsExactlyInAnyOrderElementsOf(streamed.keySet());
    for (String id : streamed.keySet()) {
      assertThat(corpusCompletions.get(id)).as("completion %s of the corpus job", id).isEqualTo(streamed.get(id));
    }
    liveUserClassLoaders(taskManagers, "after the streaming and the corpus job");
  }

  /**
   * Two jobs in a row on one TaskManager JVM need a job that pins nothing in it: DJL's tokenizer
   * binding loads a JNI library from the job jar, which a JVM loads for one class loader only.
   */
  private static void assumeResubmittable() throws Exception {
    try (ZipFile jar = new ZipFile(Path.of("target", "moe-flink-job.jar").toFile())) {
      assumeTrue(jar.getEntry("ai/djl/huggingface/tokenizers/jni/LibUtils.class") == null,
          "The job jar still carries DJL's native tokenizer binding, which loads once per TaskManager JVM;"
              + " two jobs in a row on one TaskManager need the pure-Java tokenizer (issue 12, item 2)");
    }
  }

  /**
   * Job class loaders still alive on each TaskManager after a full GC (soft references cleared,
   * see StandaloneCluster), once its jobs ended: at most {@link #RETAINED_CLASS_LOADERS}, however
   * many jobs ran there, so nothing accumulates per submission. Java 17 keeps a loader or two of
   * recent jobs in its method-handle caches until later jobs replace them: {@code
   * MethodHandle.asTypeCache} of {@code java.lang.runtime.ObjectMethods}' shared equality handle
   * holds the record class ({@code FeedbackKey}) of whichever job linked a record's {@code equals}
   * last (JDK-8078641, fixed in Java 18), as a heap dump shows.
   */
  private static Map<String, Long> liveUserClassLoaders(List<TaskManager> taskManagers, String when) {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (TaskManager tm : taskManagers) {
      // The TaskManager releases a finished job's class loader shortly after the job ends.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      long live;
      while ((live = tm.process().liveInstances(USER_CLASS_LOADER)) > RETAINED_CLASS_LOADERS && System.nanoTime() < deadline) {
        sleep(Duration.ofSeconds(1));
      }
      if (live > RETAINED_CLASS_LOADERS) {
        Path dump = work.resolve(tm.resourceId() + ".hprof");
        tm.process().jcmd("GC.heap_dump", dump.toString());
        throw new AssertionError(live + " job class loaders alive in " + tm.resourceId() + " " + when
            + ", expected at most " + RETAINED_CLASS_LOADERS + "; heap dump in " + dump);
      }
      out.put(tm.resourceId(), live);
    }
    System.out.printf("[cluster] job class loaders alive %s: %s%n", when, out);
    return out;
  }

  /**
   * Per TaskManager, how many threads have each name, leaving out the pools that Flink and the JVM
   * grow and shrink on their own (Flink's RPC dispatchers and I/O pool, JIT and GC threads).
   */
  private static Map<String, Map<String, Integer>> threadNames(List<TaskManager> taskManagers) {
    Map<String, Map<String, Integer>> out = new java.util.TreeMap<>();
    for (TaskManager tm : taskManagers) {
      Map<String, Integer> names = new java.util.TreeMap<>(tm.process().threadNames());
      names.keySet().removeIf(name -> ELASTIC_POOLS.matcher(name).lookingAt());
      out.put(tm.resourceId(), names);
    }
    return out;
  }

  private static void writeAvro(Path file, List<InferenceRequest> requests) throws Exception {
    try (DataFileWriter<InferenceRequest> w = new DataFileWriter<>(new SpecificDatumWriter<>(InferenceRequest.class))) {
      w.create(InferenceRequest.getClassSchema(), file.toFile());
      for (InferenceRequest r : requests) {
        w.append(r);
      }
    }
  }

  private static List<Completion> readAvro(Path directory) throws Exception {
    List<Completion> out = new ArrayList<>();
    try (var files = Files.list(directory)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("completions")).toList()) {
        try (DataFileReader<Completion> r = new DataFileReader<>(f.toFile(), new SpecificDatumReader<>(Completion.class))) {
          r.forEach(out::add);
        }
      }
    }
    return out;
  }

  /** The failure-free completions, from the first test or, when it did not run, computed here. */
  private synchronized Map<String, byte[]> reference() throws Exception {
    if (reference == null) {
      runsTheStreamingJobOnTwoTaskManagersExactlyOnceWithGenerationSpreadOverThem();
    }
    return reference;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void assertIdentical(Map<String, byte[]> expected, Topics t) throws Exception {
    Map<String, byte[]> committed = KafkaTestSupport.contentById(completions(t, "read_committed"));
    assertThat(committed.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    for (String id : expected.keySet()) {
      assertThat(committed.get(id)).as("completion %s after the failures", id).isEqualTo(expected.get(id));
    }
  }

  /** The TaskManager that runs the most subtasks of the job. */
  private TaskManager busiestTaskManager(String job) {
    Map<String, Integer> load = new java.util.HashMap<>();
    cluster.rest().subtaskTaskManagers(job).values().forEach(tms -> tms.forEach(tm -> load.merge(tm, 1, Integer::sum)));
    String busiest = load.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    return cluster.taskManager(busiest).orElseThrow(() -> new AssertionError("not one of ours: " + busiest));
  }

  private void awaitCommitted(Topics t, int n) {
    FlinkRest.await(n + " committed completions", JOB_TIMEOUT,
        () -> KafkaTestSupport.count(kafka.bootstrapServers(), t.completions, "read_committed") >= n);
  }

  /** {@code flink run} of the streaming job at G=2, S=2 on the topics. */
  private String submit(Topics t, boolean bounded) {
    return submit(t, null, bounded);
  }

  /** {@code flink run [-s restorePath]} of the streaming job at G=2, S=2 on the topics. */
  private String submit(Topics t, String restorePath, boolean bounded) {
    List<String> args = new ArrayList<>(List.of("--bootstrap", kafka.bootstrapServers(), "--requests", t.requests,
        "--completions", t.completions, "--dead-letters", t.deadLetters, "--group-id", t.requests,
        "--transactional-id-prefix", t.requests, "--model", model.toString(), "--model-name", "tiny",
        "--parallelism", "2", "--expert-shards", "2", "--checkpoint-interval", "500",
        "--checkpoint-dir", work.resolve("checkpoints").resolve(t.requests).toUri().toString()));
    if (bounded) {
      args.add("--bounded");
    }
    String job = cluster.submit(STREAMING_JOB, restorePath, args);
    jobs.add(job);
    return job;
  }

  /** {@code requests} dealt round robin into {@code n} waves, so each wave mixes short and long ones. */
  private static List<List<InferenceRequest>> waves(List<InferenceRequest> requests, int n) {
    List<List<InferenceRequest>> waves = new ArrayList<>();
    for (int w = 0; w < n; w++) {
      int first = w;
      waves.add(IntStream.range(0, requests.size()).filter(i -> i % n == first).mapToObj(requests::get).toList());
    }
    return waves;
  }

  private static List<String> ids(int n) {
    return IntStream.range(0, n).mapToObj(i -> String.format("r%02d", i)).toList();
  }

  private static void publish(Topics t, List<InferenceRequest> requests) {
    KafkaTestSupport.publish(kafka.bootstrapServers(), t.requests,
        requests.stream().map(AvroMessages::encode).toList(), requests.stream().map(InferenceRequest::getId).toList());
  }

  private static List<Completion> completions(Topics t, String isolation) throws Exception {
    return KafkaTestSupport.readAll(kafka.bootstrapServers(), t.completions, isolation).stream().map(r -> (Completion) r).toList();
  }

  private record Topics(String requests, String completions, String deadLetters) {
    static Topics fresh() throws Exception {
      String id = UUID.randomUUID().toString().substring(0, 8);
      Topics t = new Topics("req-" + id, "out-" + id, "dlq-" + id);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), t.requests, 2);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), t.completions, 2);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), t.deadLetters, 1);
      return t;
    }
  }
}
