package io.moeflink.workbench.prefix;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.PrefixCache;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A prefix-cache hit changes no logit: requests that share a system prompt give the same logits,
 * bit for bit, behind every sampled token, with and without the cache, whatever the token budget
 * (chunking of the rest of the prompt) and the block size.
 */
class PrefixCacheDeterminismTest {
  private static final int VOCAB = 600;
  private static Path bf16;
  private static Path fp8;

  @BeforeAll
  static void generate() throws IOException {
    var shape = ModelPreset.TINY.shape().toBuilder().vocabSize(VOCAB).build();
    bf16 = Path.of("target/prefix-models/tiny-bf16");
    if (!Files.exists(bf16.resolve("config.json"))) {
      ModelGenerator.builder(shape).format(WeightFormat.BF16).seed(33).build().writeTo(bf16);
    }
    fp8 = Path.of("target/prefix-models/tiny-fp8");
    if (!Files.exists(fp8.resolve("config.json"))) {
      ModelGenerator.builder(shape).format(WeightFormat.FP8).seed(34).build().writeTo(fp8);
    }
  }

  /** 30 requests: a 75-token system prompt, then 3 to 30 tokens of their own; even greedy, odd sampled. */
  static List<GenerationRequest> requests() {
    int[] system = new int[75];
    for (int i = 0; i < system.length; i++) {
      system[i] = (i * 53 + 7) % VOCAB;
    }
    List<GenerationRequest> requests = new ArrayList<>();
    for (int r = 0; r < 30; r++) {
      int[] prompt = java.util.Arrays.copyOf(system, system.length + 3 + (r * 7) % 28);
      for (int i = system.length; i < prompt.length; i++) {
        prompt[i] = (r * 131 + i * 17 + 3) % VOCAB;
      }
      SamplingParams sampling = r % 2 == 0 ? SamplingParams.greedy(6)
          : new SamplingParams(0.9, 50, 0.95, 500 + r, 6, Set.of(), List.of());
      requests.add(new GenerationRequest("r" + r, prompt, sampling));
    }
    return requests;
  }

  private record Run(List<GenerationResult> results, Map<String, float[]> logits, PrefixCache.Stats stats) {}

  private static Run run(Path dir, BackendKind backend, SchedulerLimits limits, int blockTokens) throws IOException {
    Map<String, float[]> logits = new TreeMap<>();
    try (KernelBackend k = Backends.cpu(backend, 2); Model m = Model.load(dir, k)) {
      Generator g = new Generator(m, 2, limits, null);
      PrefixCache cache = blockTokens == 0 ? null : PrefixCache.of(m, 64L << 20, blockTokens);
      g.usePrefixCache(cache);
      List<GenerationResult> results = g.generate(requests(), r -> {},
          (id, index, l) -> assertThat(logits.put(id + "/" + index, l.clone())).as("%s/%d sampled once", id, index).isNull());
      return new Run(results, logits, cache == null ? null : cache.stats());
    }
  }

  private static void assertSameBits(Run expected, Run actual, String what) {
    for (int i = 0; i < expected.results().size(); i++) {
      assertThat(actual.results().get(i).tokens()).as("%s: request %d", what, i)
          .containsExactly(expected.results().get(i).tokens());
    }
    assertThat(actual.logits().keySet()).isEqualTo(expected.logits().keySet());
    expected.logits().forEach((key, l) -> assertThat(actual.logits().get(key)).as("%s: %s", what, key).isEqualTo(l));
  }

  @Test
  void logitsWithACacheHitAreTheBitsOfAFullPrefill() throws IOException {
    for (Path model : List.of(bf16, fp8)) {
      Run plain = run(model, BackendKind.VECTOR, new SchedulerLimits(4, 64), 0);
      Run cached = run(model, BackendKind.VECTOR, new SchedulerLimits(4, 64), 16);
      assertSameBits(plain, cached, model.getFileName() + ", blocks of 16");
      // the first four are admitted together and all miss; the other 26 reuse the 4 blocks (64 tokens)
      assertThat(cached.stats().hits()).as("hits").isEqualTo(26);
      assertThat(cached.stats().tokensReused()).as("tokens reused").isEqualTo(26 * 64);
      System.out.printf("prefix cache, %s: %d/%d requests hit, %.1f%% of prompt tokens reused%n",
          model.getFileName(), cached.stats().hits(), cached.stats().lookups(), 100 * cached.stats().tokenHitRate());
    }
  }

  @Test
  void smallTokenBudgetsOtherBlockSizesAndTheScalarBackendGiveTheSameBits() throws IOException {
    Run plain = run(bf16, BackendKind.SCALAR, new SchedulerLimits(1, 1000), 0);
    Run chunked = run(bf16, BackendKind.SCALAR, new SchedulerLimits(3, 7), 32);
    Run tiny = run(bf16, BackendKind.SCALAR, new SchedulerLimits(2, 5), 5);
    assertSameBits(plain, chunked, "blocks of 32, budget 7");
    assertSameBits(plain, tiny, "blocks of 5, budget 5");
    assertThat(chunked.stats().tokensReused()).isPositive();
    assertThat(tiny.stats().hits()).isGreaterThan(20);
  }
}
