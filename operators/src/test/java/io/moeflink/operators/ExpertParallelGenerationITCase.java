package io.moeflink.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.testing.TestModels;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.clusterframework.types.AllocationID;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecution;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The expert-parallel dataflow on a MiniCluster with two TaskManagers produces exactly the tokens
 * of the engine alone, for any number of generation subtasks and expert shards and any capacity.
 */
class ExpertParallelGenerationITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());

  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void model() {
    model = TestModels.golden("bf16", tmp.resolve("bf16"));
  }

  static Stream<Arguments> topologies() {
    return Stream.of(
        Arguments.of(1, 1, new SchedulerLimits(16, 256)),
        Arguments.of(1, 2, new SchedulerLimits(3, 8)),
        Arguments.of(1, 3, new SchedulerLimits(1, 4)),
        Arguments.of(2, 1, new SchedulerLimits(2, 5)),
        Arguments.of(2, 2, new SchedulerLimits(4, 64)),
        Arguments.of(2, 3, new SchedulerLimits(16, 7)));
  }

  private static List<GenerationOutput> run(List<GenerationTask> tasks, int g, int s, SchedulerLimits limits) throws Exception {
    return run(ModelSpec.builder().modelDir(model.toString()).threads(1).expertShards(s).build(), tasks, g, limits);
  }

  private static List<GenerationOutput> run(ModelSpec spec, List<GenerationTask> tasks, int g, SchedulerLimits limits)
      throws Exception {
    int s = spec.expertShards();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DataStream<GenerationTask> source = env.fromData(GenerationTask.TYPE, tasks.toArray(new GenerationTask[0]))
        .setParallelism(1)
        .rebalance();
    DataStream<GenerationOutput> outputs = ExpertParallelGeneration.builder()
        .model(spec)
        .generationParallelism(g)
        .limits(limits)
        .build()
        .apply(source);
    List<GenerationOutput> out = new ArrayList<>();
    try (CloseableIterator<GenerationOutput> it = outputs.executeAndCollect("expert-parallel " + g + "x" + s)) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  @ParameterizedTest(name = "G={0} S={1} {2}")
  @MethodSource("topologies")
  void completionsEqualTheEngineAloneTokenForToken(int g, int s, SchedulerLimits limits) throws Exception {
    List<GenerationTask> tasks = OperatorTestSupport.tasks(9, 512);
    List<GenerationOutput> outputs = run(tasks, g, s, limits);
    assertThat(outputs).extracting(GenerationOutput::id)
        .containsExactlyInAnyOrderElementsOf(tasks.stream().map(GenerationTask::id).toList());
    assertThat(OperatorTestSupport.byId(outputs)).isEqualTo(OperatorTestSupport.engineTokens(model, tasks));
    for (GenerationOutput o : outputs) {
      assertThat(o.metadata()).containsKey("n");
      assertThat(o.finishReason()).isEqualTo(GenerationOutput.LENGTH);
    }
  }

  /**
   * Speculative decoding through the dataflow: the MTP module's layer is one more MoE layer on the
   * shards, each verifying step sends two tokens per sequence, and the completions are the
   * engine's plain-decoding tokens, greedy and sampled.
   */
  @Test
  void completionsWithMtpDraftsAreThePlainTokens() throws Exception {
    Path mtp = ModelGenerator.builder(ModelPreset.TINY.shape().toBuilder().vocabSize(512).build())
        .format(WeightFormat.BF16).mtp(true).seed(5).build().writeTo(tmp.resolve("mtp")).directory();
    List<GenerationTask> tasks = OperatorTestSupport.tasks(50, 512);
    ModelSpec spec = ModelSpec.builder().modelDir(mtp.toString()).threads(1).expertShards(2).mtp(true).build();
    List<GenerationOutput> outputs = run(spec, tasks, 2, new SchedulerLimits(6, 24));
    assertThat(outputs).hasSize(50);
    assertThat(OperatorTestSupport.byId(outputs)).isEqualTo(OperatorTestSupport.engineTokens(mtp, tasks));
  }

  /** The same on the trained demo model, whose drafts are mostly accepted (0.64 greedy). */
  @Test
  void completionsOfTheDemoModelWithMtpDraftsAreThePlainTokens() throws Exception {
    Path demo = Path.of("../models/demo");
    assumeTrue(Files.exists(demo.resolve("config.json")), "models/demo is committed");
    List<GenerationTask> tasks = OperatorTestSupport.tasks(50, 3072);
    ModelSpec spec = ModelSpec.builder().modelDir(demo.toString()).threads(1).expertShards(2).mtp(true).build();
    List<GenerationOutput> outputs = run(spec, tasks, 2, new SchedulerLimits(6, 24));
    assertThat(outputs).hasSize(50);
    assertThat(OperatorTestSupport.byId(outputs)).isEqualTo(OperatorTestSupport.engineTokens(demo, tasks));
  }

  @Test
  void greedyTokensEqualTheReferenceGoldens() throws Exception {
    JsonNode golden = new ObjectMapper().readTree(model.resolve("golden.json").toFile());
    List<GenerationTask> tasks = new ArrayList<>();
    Map<String, List<Integer>> expected = new java.util.LinkedHashMap<>();
    int i = 0;
    for (JsonNode p : golden.get("prompts")) {
      int[] prompt = new int[p.get("tokens").size()];
      for (int t = 0; t < prompt.length; t++) {
        prompt[t] = p.get("tokens").get(t).asInt();
      }
      List<Integer> gen = new ArrayList<>();
      p.get("generated").forEach(n -> gen.add(n.asInt()));
      tasks.add(new GenerationTask("golden-" + i, prompt, SamplingParams.greedy(16), null, Map.of(), 0));
      expected.put("golden-" + i, gen);
      i++;
    }
    assertThat(OperatorTestSupport.byId(run(tasks, 2, 3, new SchedulerLimits(2, 9)))).isEqualTo(expected);
  }

  @Test
  void eachFeedbackTailSharesTheSlotOfItsGenerationSubtask(@InjectMiniCluster MiniCluster cluster) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DataStream<GenerationTask> source = env.fromData(GenerationTask.TYPE, OperatorTestSupport.tasks(4, 512).toArray(new GenerationTask[0]))
        .setParallelism(1).rebalance();
    ExpertParallelGeneration.builder().model(ModelSpec.builder().modelDir(model.toString()).threads(1).expertShards(2).build())
        .generationParallelism(2).build().apply(source)
        .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
    JobExecutionResult result = env.execute("co-location");
    JobID id = result.getJobID();
    AccessExecutionGraph graph = cluster.getArchivedExecutionGraph(id).get();
    AccessExecutionJobVertex generation = vertex(graph, "generation");
    AccessExecutionJobVertex tail = vertex(graph, "feedback-tail");
    Set<AllocationID> slots = new HashSet<>();
    for (int i = 0; i < 2; i++) {
      AllocationID head = ((ArchivedExecution) generation.getTaskVertices()[i].getCurrentExecutionAttempt()).getAssignedAllocationID();
      AllocationID back = ((ArchivedExecution) tail.getTaskVertices()[i].getCurrentExecutionAttempt()).getAssignedAllocationID();
      assertThat(back).as("slot of feedback tail %d", i).isEqualTo(head);
      slots.add(head);
    }
    assertThat(slots).as("the two generation subtasks run in different slots").hasSize(2);
  }

  private static AccessExecutionJobVertex vertex(AccessExecutionGraph graph, String name) {
    for (AccessExecutionJobVertex v : graph.getAllVertices().values()) {
      if (v.getName().contains(name)) {
        return v;
      }
    }
    throw new AssertionError("No vertex named " + name);
  }
}
