package io.moeflink.jobs.bench;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.operators.ExpertParallelGeneration;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * Output tokens per second of the same requests on the same model through the engine alone and
 * through the expert-parallel dataflow (one generation subtask, each configured number of expert
 * shards) on a MiniCluster in this JVM; the dataflow's tokens must equal the engine's.
 *
 * <p>Every run starts with one untimed warm-up request of the same shape, so neither figure
 * contains model loading, job deployment or the first JIT compilations:
 *
 * <ul>
 *   <li>engine alone: load the model and its one in-process expert shard, generate the warm-up
 *       request, then time {@link Generator#generate} of the timed requests;
 *   <li>dataflow: the source emits the warm-up request, then the timed ones, which wait until the
 *       warm-up output has come out of the generation operator; the window runs from the first
 *       timed request leaving that gate to the last timed output leaving the generation operator
 *       (see {@link RunClock}).
 * </ul>
 *
 * <p>The repeats interleave the configurations, each repeat starting one further (engine, S=1, S=2;
 * S=1, S=2, engine; ...), so a slow phase of a shared machine hits all of them and none always
 * runs first; the report takes medians and pairs each run with the engine run of its repeat.
 */
public final class DataflowBenchmark {
  /** Id of each run's untimed first request. */
  static final String WARM_UP_ID = "warm-up";
  /** BOS of the generated presets; the rest of a prompt is drawn from the vocabulary above it. */
  private static final int BOS = 0;
  private static final int FIRST_ORDINARY_TOKEN = 2;
  private static final long PROMPT_SEED = 0;

  private final Path model;
  private final DataflowBenchSettings settings;

  public DataflowBenchmark(Path model, DataflowBenchSettings settings) {
    this.model = model;
    this.settings = settings;
  }

  public DataflowBenchReport run() throws Exception {
    ModelConfig config = ModelConfig.load(model);
    List<GenerationTask> tasks = requests(settings, config.vocabSize());
    GenerationTask warmUp = warmUp(tasks.get(0));
    String backend;
    try (KernelBackend k = Backends.cpu(settings.backend(), settings.threads())) {
      backend = k.name();
    }
    List<ConfigFigures.Run> engine = new ArrayList<>();
    Map<Integer, List<ConfigFigures.Run>> dataflow = new LinkedHashMap<>();
    settings.expertShards().forEach(s -> dataflow.put(s, new ArrayList<>()));
    int configs = 1 + settings.expertShards().size();
    for (int r = 0; r < settings.repeats(); r++) {
      for (int i = 0; i < configs; i++) {
        int c = (r + i) % configs; // each repeat starts with the next configuration
        if (c == 0) {
          engine.add(engineAlone(warmUp, tasks));
        } else {
          int shards = settings.expertShards().get(c - 1);
          dataflow.get(shards).add(dataflow(shards, warmUp, tasks));
        }
      }
    }
    Map<String, List<Integer>> expected = engine.get(0).tokensById();
    List<ConfigFigures> figures = new ArrayList<>();
    figures.add(new ConfigFigures("engine alone", 0, 1, engine, expected));
    dataflow.forEach((shards, runs) -> figures.add(new ConfigFigures("dataflow G=1 S=" + shards, 1, shards, runs, expected)));
    return new DataflowBenchReport(model.toString(), backend, settings, figures);
  }

  /**
   * The timed requests: a BOS and pseudo-random tokens (fixed seed), greedy and seeded sampling
   * alternating, no stop tokens, so every request generates exactly {@code maxTokens}.
   */
  static List<GenerationTask> requests(DataflowBenchSettings settings, int vocabSize) {
    Random random = new Random(PROMPT_SEED);
    List<GenerationTask> tasks = new ArrayList<>();
    for (int i = 0; i < settings.requests(); i++) {
      int[] prompt = new int[settings.promptTokens()];
      prompt[0] = BOS;
      for (int t = 1; t < prompt.length; t++) {
        prompt[t] = FIRST_ORDINARY_TOKEN + random.nextInt(vocabSize - FIRST_ORDINARY_TOKEN);
      }
      SamplingParams sampling = i % 2 == 0
          ? SamplingParams.greedy(settings.maxTokens())
          : new SamplingParams(0.8, 40, 0.95, i, settings.maxTokens(), Set.of(), List.of());
      tasks.add(new GenerationTask("bench-" + i, prompt, sampling, null, Map.of(), 0));
    }
    return tasks;
  }

  private static GenerationTask warmUp(GenerationTask like) {
    return new GenerationTask(WARM_UP_ID, like.promptTokens(), like.sampling(), null, Map.of(), 0);
  }

  private ConfigFigures.Run engineAlone(GenerationTask warmUp, List<GenerationTask> tasks) throws Exception {
    try (KernelBackend kernels = Backends.cpu(settings.backend(), settings.threads());
        Model m = Model.load(model, kernels)) {
      Generator generator = new Generator(m, 1, settings.limits(), null);
      generator.generate(List.of(warmUp.toRequest()));
      List<GenerationRequest> requests = tasks.stream().map(GenerationTask::toRequest).toList();
      long start = System.nanoTime();
      List<GenerationResult> results = generator.generate(requests);
      long nanos = System.nanoTime() - start;
      Map<String, List<Integer>> tokens = new LinkedHashMap<>();
      long count = 0;
      for (GenerationResult r : results) {
        tokens.put(r.id(), toList(r.tokens()));
        count += r.tokens().length;
      }
      return new ConfigFigures.Run(count, nanos, tokens);
    }
  }

  private ConfigFigures.Run dataflow(int shards, GenerationTask warmUp, List<GenerationTask> tasks) throws Exception {
    String runId = UUID.randomUUID().toString();
    RunClock clock = RunClock.register(runId);
    try {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flinkConfiguration(shards));
      List<GenerationTask> all = new ArrayList<>();
      all.add(warmUp);
      all.addAll(tasks);
      DataStream<GenerationTask> source = env.fromData(GenerationTask.TYPE, all.toArray(new GenerationTask[0]))
          .setParallelism(1)
          .map(new ReleaseAfterWarmup(runId, WARM_UP_ID), GenerationTask.TYPE)
          .name("release-after-warm-up")
          .setParallelism(1)
          .setBufferTimeout(0)
          .rebalance(); // the gate blocks: it must not share a thread with the generation operator
      DataStream<GenerationOutput> outputs = ExpertParallelGeneration.builder()
          .model(ModelSpec.builder().modelDir(model).backend(settings.backend()).threads(settings.threads())
              .expertShards(shards).build())
          .generationParallelism(1)
          .limits(settings.limits())
          .build()
          .apply(source)
          .map(new StampFinished(runId, WARM_UP_ID), GenerationOutput.TYPE)
          .name("stamp-finished")
          .setParallelism(1);
      Map<String, List<Integer>> tokens = new LinkedHashMap<>();
      try (CloseableIterator<GenerationOutput> it = outputs.executeAndCollect("bench-dataflow G=1 S=" + shards)) {
        it.forEachRemaining(o -> {
          if (!o.id().equals(WARM_UP_ID)) {
            tokens.put(o.id(), toList(o.tokens()));
          }
        });
      }
      if (clock.outputs() != tasks.size()) {
        throw new IllegalStateException("Dataflow run S=" + shards + " returned " + clock.outputs() + " timed outputs, expected "
            + tasks.size());
      }
      return new ConfigFigures.Run(clock.tokens(), clock.elapsedNanos(), tokens);
    } finally {
      RunClock.remove(runId);
    }
  }

  /** A local MiniCluster with a slot for each subtask of the widest operator (slots are shared). */
  private static Configuration flinkConfiguration(int shards) {
    Configuration c = new Configuration();
    c.set(TaskManagerOptions.NUM_TASK_SLOTS, Math.max(2, shards));
    c.setString("parallelism.default", "1");
    return c;
  }

  private static List<Integer> toList(int[] tokens) {
    List<Integer> list = new ArrayList<>(tokens.length);
    for (int t : tokens) {
      list.add(t);
    }
    return list;
  }
}
