package io.moeflink.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.connectors.codec.AvroMessages;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.jobs.cluster.FlinkRest;
import io.moeflink.jobs.cluster.KafkaBrokerProcess;
import io.moeflink.jobs.cluster.StandaloneCluster;
import io.moeflink.jobs.cluster.StandaloneCluster.TaskManager;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.schemas.SamplingParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The soak: {@value #REQUESTS} requests through the streaming job on a standalone cluster (two
 * TaskManagers with a capped heap, G=2, S=2, the tiny model, a few tokens each). It publishes the
 * first 1,000 requests, waits until their completions are committed, measures every TaskManager's
 * resident set and its heap after a full GC, then publishes the other 9,000 and measures again once
 * all are committed: with nothing in flight both times, so that the figures compare like with like
 * (records in flight hold some 15 MiB of heap). Both figures must stay within 10%. Throughput over time and the memory figures go to {@code
 * target/soak/} (CSV); {@code docs/soak/plot.py} draws them.
 *
 * <p>Not part of {@code mvn verify} (it takes several minutes): {@code mvn -B -Psoak -pl jobs -am
 * verify}.
 */
class StreamingJobSoak {

  private static final int REQUESTS = 10_000;
  /** Where memory is measured: after the first 1,000 requests and after all of them, nothing in flight either time. */
  private static final int[] MEASURE_AT = {1_000, REQUESTS};
  private static final Pattern HEAP_TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");
  private static final Path OUT = Path.of("target", "soak").toAbsolutePath();

  @Test
  void keepsMemoryFlatOverTenThousandRequests() throws Exception {
    if (Files.exists(OUT)) { // a fresh broker and cluster each run
      try (var old = Files.walk(OUT)) {
        for (Path p : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Path work = OUT.resolve("cluster");
    Path model = work.resolve("tiny");
    ModelGenerator.builder(ModelPreset.TINY.shape()).seed(3).build().writeTo(model);
    Path launcher = Path.of("").toAbsolutePath().getParent().resolve("bin/moe-flink");
    try (KafkaBrokerProcess kafka = new KafkaBrokerProcess(launcher, work.resolve("kafka"), work.resolve("log")).start();
        StandaloneCluster cluster = StandaloneCluster.builder(work).taskHeap("160m").build().start()) {
      List<TaskManager> taskManagers = cluster.startTaskManagers(2);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), "soak-requests", 2);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), "soak-completions", 2);
      KafkaTestSupport.createTopic(kafka.bootstrapServers(), "soak-dead-letters", 1);
      List<InferenceRequest> requests = requests();
      publish(kafka, requests.subList(0, MEASURE_AT[0]));

      String job = cluster.submit("io.moeflink.jobs.StreamingJob", List.of("--bootstrap", kafka.bootstrapServers(),
          "--requests", "soak-requests", "--completions", "soak-completions", "--dead-letters", "soak-dead-letters",
          "--model", model.toString(), "--model-name", "tiny", "--parallelism", "2", "--expert-shards", "2",
          "--max-sequences", "32", "--checkpoint-interval", "2000",
          "--checkpoint-dir", work.resolve("checkpoints").toUri().toString()));
      FlinkRest.await("every subtask running", Duration.ofMinutes(3), () -> cluster.rest().isFullyRunning(job));

      StringBuilder throughput = new StringBuilder("seconds,completions,taskmanager,rss_mib\n");
      StringBuilder memory = new StringBuilder("seconds,completions,taskmanager,rss_mib,heap_after_gc_mib\n");
      Map<Integer, Map<String, long[]>> figures = new TreeMap<>();
      long start = System.nanoTime();
      int committed = 0;
      java.util.Set<String> ids = new java.util.HashSet<>();
      int next = 0;
      try (KafkaConsumer<byte[], byte[]> consumer = committedReader(kafka.bootstrapServers(), "soak-completions")) {
        while (next < MEASURE_AT.length) {
          for (var record : consumer.poll(Duration.ofMillis(500))) {
            committed++;
            ids.add(new String(record.key(), StandardCharsets.UTF_8));
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          for (TaskManager tm : taskManagers) {
            throughput.append(String.format(Locale.ROOT, "%.1f,%d,%s,%.1f%n", seconds, committed, tm.resourceId(),
                tm.process().residentBytes() / 1048576.0));
          }
          if (committed >= MEASURE_AT[next]) {
            Map<String, long[]> at = new TreeMap<>();
            for (TaskManager tm : taskManagers) {
              long heap = heapAfterGc(tm);
              long rss = tm.process().residentBytes();
              at.put(tm.resourceId(), new long[] {rss, heap});
              memory.append(String.format(Locale.ROOT, "%.1f,%d,%s,%.1f,%.1f%n", seconds, MEASURE_AT[next], tm.resourceId(),
                  rss / 1048576.0, heap / 1048576.0));
            }
            figures.put(MEASURE_AT[next], at);
            System.out.printf(Locale.ROOT, "[soak] %d completions after %.0f s: %s%n", committed, seconds, describe(at));
            next++;
            if (next < MEASURE_AT.length) {
              publish(kafka, requests.subList(MEASURE_AT[next - 1], REQUESTS));
            }
          }
          assertThat(seconds).as("time for %d requests (%d committed)", REQUESTS, committed).isLessThan(1800);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Files.createDirectories(OUT);
      Files.writeString(OUT.resolve("throughput.csv"), throughput, StandardCharsets.UTF_8);
      Files.writeString(OUT.resolve("memory.csv"), memory, StandardCharsets.UTF_8);
      System.out.printf(Locale.ROOT, "[soak] %d completions in %.0f s (%.1f/s), %d restarts; CSV in %s%n",
          committed, seconds, committed / seconds, cluster.rest().restarts(job), OUT);

      assertThat(committed).as("committed completions").isEqualTo(REQUESTS);
      assertThat(ids).as("request ids of the completions").hasSize(REQUESTS);
      assertThat(cluster.rest().restarts(job)).isZero();
      for (TaskManager tm : taskManagers) {
        long[] first = figures.get(MEASURE_AT[0]).get(tm.resourceId());
        long[] last = figures.get(REQUESTS).get(tm.resourceId());
        assertThat((double) last[0]).as("%s resident set at 10k vs 1k requests", tm.resourceId())
            .isCloseTo(first[0], org.assertj.core.data.Percentage.withPercentage(10));
        assertThat((double) last[1]).as("%s heap after GC at 10k vs 1k requests", tm.resourceId())
            .isCloseTo(first[1], org.assertj.core.data.Percentage.withPercentage(10));
      }
    }
  }

  private static void publish(KafkaBrokerProcess kafka, List<InferenceRequest> requests) {
    KafkaTestSupport.publish(kafka.bootstrapServers(), "soak-requests", requests.stream().map(AvroMessages::encode).toList(),
        requests.stream().map(InferenceRequest::getId).toList());
  }

  /** Short requests: text prompts, chat messages, token ids; greedy and sampled; 2 to 8 tokens. */
  private static List<InferenceRequest> requests() {
    List<InferenceRequest> list = new ArrayList<>();
    for (InferenceRequest template : TestRequests.good(30)) {
      list.add(template);
    }
    return IntStream.range(0, REQUESTS).mapToObj(i -> {
      InferenceRequest r = InferenceRequest.newBuilder(list.get(i % list.size())).setId(String.format("s%05d", i))
          .setSampling(SamplingParams.newBuilder().setMaxTokens(2 + i % 7).setTemperature(i % 2 == 0 ? 0f : 0.8f)
              .setSeed((long) i).build())
          .build();
      return r;
    }).toList();
  }

  /** Live heap bytes after a full GC: the total of {@code jcmd GC.class_histogram}. */
  private static long heapAfterGc(TaskManager tm) {
    Matcher m = HEAP_TOTAL.matcher(tm.process().jcmd("GC.class_histogram"));
    if (!m.find()) {
      throw new IllegalStateException("No Total line in the class histogram of " + tm.resourceId());
    }
    return Long.parseLong(m.group(1));
  }

  private static String describe(Map<String, long[]> at) {
    StringBuilder s = new StringBuilder();
    at.forEach((tm, f) -> s.append(String.format(Locale.ROOT, "%s RSS %.0f MiB, heap after GC %.1f MiB; ", tm,
        f[0] / 1048576.0, f[1] / 1048576.0)));
    return s.toString();
  }

  private static KafkaConsumer<byte[], byte[]> committedReader(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return consumer;
  }
}
