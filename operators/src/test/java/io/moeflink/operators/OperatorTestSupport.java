package io.moeflink.operators;

import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Requests and the engine-alone answers the dataflow must reproduce. */
public final class OperatorTestSupport {
  private OperatorTestSupport() {}

  /** {@code n} tasks with prompts of different lengths, greedy and seeded sampling mixed. */
  public static List<GenerationTask> tasks(int n, int vocab) {
    List<GenerationTask> tasks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] prompt = new int[2 + (i * 5) % 13];
      for (int t = 0; t < prompt.length; t++) {
        prompt[t] = t == 0 ? 0 : (31 * t + 17 * i + 3) % vocab;
      }
      SamplingParams sampling = i % 3 == 0
          ? SamplingParams.greedy(4 + i % 5)
          : new SamplingParams(0.8, i % 2 == 0 ? 10 : 0, i % 4 == 1 ? 0.9 : 1.0, 42 + i, 3 + i % 6, Set.of(), List.of());
      tasks.add(new GenerationTask("req-" + i, prompt, sampling, "tiny", Map.of("n", String.valueOf(i)), 0));
    }
    return tasks;
  }

  /** The tokens the engine alone generates for each task id. */
  public static Map<String, List<Integer>> engineTokens(Path modelDir, List<GenerationTask> tasks) throws Exception {
    try (KernelBackend k = Backends.cpu(BackendKind.AUTO, 1); Model model = Model.load(modelDir, k)) {
      List<GenerationRequest> requests = tasks.stream().map(GenerationTask::toRequest).toList();
      Map<String, List<Integer>> out = new LinkedHashMap<>();
      for (GenerationResult r : new Generator(model, 1, SchedulerLimits.DEFAULT, null).generate(requests)) {
        out.put(r.id(), toList(r.tokens()));
      }
      return out;
    }
  }

  public static List<Integer> toList(int[] tokens) {
    List<Integer> l = new ArrayList<>(tokens.length);
    for (int t : tokens) {
      l.add(t);
    }
    return l;
  }

  /** Token lists by id. */
  public static Map<String, List<Integer>> byId(List<GenerationOutput> outputs) {
    Map<String, List<Integer>> out = new LinkedHashMap<>();
    for (GenerationOutput o : outputs) {
      out.put(o.id(), toList(o.tokens()));
    }
    return out;
  }
}
