package io.moeflink.engine.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.model.GoldenFixture;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.FinishReason;
import io.moeflink.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {
  private static Model model;

  @BeforeAll
  static void load() throws Exception {
    model = Model.load(GoldenFixture.load("bf16").dir(), Backends.cpu(BackendKind.AUTO, 2));
  }

  @AfterAll
  static void close() {
    model.kernels().close();
    model.close();
  }

  private static List<GenerationRequest> requests() {
    List<GenerationRequest> list = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      int[] prompt = new int[3 + 4 * i];
      for (int t = 0; t < prompt.length; t++) {
        prompt[t] = t == 0 ? 0 : (37 * t + 11 * i) % 512;
      }
      SamplingParams p = i % 2 == 0
          ? SamplingParams.greedy(6 + i)
          : new SamplingParams(0.9, i == 3 ? 20 : 0, i == 5 ? 0.8 : 1.0, 1000 + i, 5 + i, Set.of(), List.of());
      list.add(new GenerationRequest("r" + i, prompt, p));
    }
    return list;
  }

  private static List<List<Integer>> tokens(List<GenerationResult> results) {
    List<List<Integer>> out = new ArrayList<>();
    for (GenerationResult r : results) {
      List<Integer> t = new ArrayList<>();
      for (int x : r.tokens()) {
        t.add(x);
      }
      out.add(t);
    }
    return out;
  }

  @Test
  void greedyGenerationReproducesTheGoldenTokens() {
    var prompts = GoldenFixture.load("bf16").golden().get("prompts");
    List<GenerationRequest> reqs = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      reqs.add(new GenerationRequest("p" + i, GoldenFixture.ints(prompts.get(i).get("tokens")), SamplingParams.greedy(16)));
    }
    List<GenerationResult> results = new Generator(model, 3, new SchedulerLimits(2, 7), null).generate(reqs);
    for (int i = 0; i < prompts.size(); i++) {
      assertThat(results.get(i).tokens()).as("prompt %d", i).containsExactly(GoldenFixture.ints(prompts.get(i).get("generated")));
      assertThat(results.get(i).finishReason()).isEqualTo(FinishReason.LENGTH);
    }
  }

  @Test
  void tokensDoNotDependOnCapacityBudgetOrShards() {
    List<List<Integer>> reference = tokens(new Generator(model, 1, new SchedulerLimits(1, 1000), null).generate(requests()));
    assertThat(tokens(new Generator(model, 2, new SchedulerLimits(3, 5), null).generate(requests()))).isEqualTo(reference);
    assertThat(tokens(new Generator(model, 5, new SchedulerLimits(16, 64), null).generate(requests()))).isEqualTo(reference);
    assertThat(reference.get(0)).hasSize(6);
    assertThat(reference.get(1)).hasSize(6);
  }

  @Test
  void aSequenceRestoredFromItsGeneratedTokensContinuesIdentically() {
    GenerationRequest request = requests().get(3); // sampled, top-k
    int[] full = new Generator(model, 2, SchedulerLimits.DEFAULT, null).generate(List.of(request)).get(0).tokens();

    BatchScheduler scheduler = new BatchScheduler(model, io.moeflink.engine.moe.ExpertPlacement.balanced(model.config(), 2),
        new SchedulerLimits(4, 4), null);
    var exchange = new Generator(model, 2, SchedulerLimits.DEFAULT, null).exchange();
    scheduler.restore(request, java.util.Arrays.copyOf(full, 3), 0);
    List<Sequence> finished = new ArrayList<>();
    while (finished.isEmpty()) {
      Step step = scheduler.nextStep();
      exchange.run(step.pass(), model.kernels());
      finished.addAll(scheduler.complete(step, 1));
    }
    assertThat(finished.get(0).generated()).containsExactly(full);
  }

  @Test
  void stopTokenEndsTheSequenceWithStop() {
    int[] greedy = new Generator(model, 1, SchedulerLimits.DEFAULT, null)
        .generate(List.of(new GenerationRequest("g", new int[] {0, 5, 6}, SamplingParams.greedy(8)))).get(0).tokens();
    SamplingParams stopAtThird = new SamplingParams(0, 0, 1, 0, 8, Set.of(greedy[2]), List.of());
    GenerationResult r = new Generator(model, 1, SchedulerLimits.DEFAULT, null)
        .generate(List.of(new GenerationRequest("s", new int[] {0, 5, 6}, stopAtThird))).get(0);
    int firstStop = 0;
    while (greedy[firstStop] != greedy[2]) {
      firstStop++;
    }
    assertThat(r.tokens()).containsExactly(java.util.Arrays.copyOf(greedy, firstStop + 1));
    assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
  }

  @Test
  void rejectsARequestLongerThanTheContext() {
    int[] prompt = new int[120];
    BatchScheduler scheduler = new BatchScheduler(model, io.moeflink.engine.moe.ExpertPlacement.balanced(model.config(), 1),
        SchedulerLimits.DEFAULT, null);
    assertThatThrownBy(() -> scheduler.admit(new GenerationRequest("long", prompt, SamplingParams.greedy(20)), 0))
        .hasMessageContaining("exceeds the model's context of 128");
  }
}
