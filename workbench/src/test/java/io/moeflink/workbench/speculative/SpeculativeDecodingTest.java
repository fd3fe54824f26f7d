package io.moeflink.workbench.speculative;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.checkpoint.CheckpointException;
import io.moeflink.engine.generate.BatchScheduler;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.DraftChunk;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.LatentKvCache;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.SequenceChunk;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.ModelShape;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Speculative decoding with the MTP module gives the tokens, and the logits behind every token,
 * of plain decoding bit for bit: greedy and sampled, batched with prefill, with 1 and 3 shards.
 */
class SpeculativeDecodingTest {

  private static Path model;
  private static Path withoutMtp;

  @BeforeAll
  static void generate() throws IOException {
    ModelShape shape = ModelPreset.TINY.shape().toBuilder().vocabSize(600).build();
    model = Path.of("target/speculative-models/mtp-bf16");
    if (!Files.exists(model.resolve("config.json"))) {
      ModelGenerator.builder(shape).format(WeightFormat.BF16).mtp(true).seed(21).build().writeTo(model);
    }
    withoutMtp = Path.of("target/speculative-models/plain-bf16");
    if (!Files.exists(withoutMtp.resolve("config.json"))) {
      ModelGenerator.builder(shape).format(WeightFormat.BF16).seed(21).build().writeTo(withoutMtp);
    }
  }

  /** 50 prompts of 1 to 40 tokens; even ones greedy, odd ones sampled with their own seeds. */
  static List<GenerationRequest> requests() {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int p = 0; p < 50; p++) {
      int[] tokens = new int[1 + (p * 13) % 40];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = (p * 97 + i * 31 + 5) % 600;
      }
      SamplingParams sampling = p % 2 == 0 ? SamplingParams.greedy(12)
          : new SamplingParams(0.8, 40, 0.95, 1000 + p, 12, Set.of(), List.of());
      requests.add(new GenerationRequest("p" + p, tokens, sampling));
    }
    return requests;
  }

  private record Run(List<GenerationResult> results, Map<String, float[]> logits, BatchScheduler.SpeculationCounts counts) {}

  private static Run run(Path dir, boolean mtp, BackendKind backend, int shards, SchedulerLimits limits) throws IOException {
    Map<String, float[]> logits = new TreeMap<>();
    try (KernelBackend k = Backends.cpu(backend, 2); Model m = Model.load(dir, k, mtp)) {
      Generator g = new Generator(m, shards, limits, null);
      List<GenerationResult> results = g.generate(requests(), r -> {},
          (id, index, l) -> assertThat(logits.put(id + "/" + index, l.clone())).as("%s/%d sampled once", id, index).isNull());
      return new Run(results, logits, g.speculationCounts());
    }
  }

  @Test
  void tokensAndLogitsAreThoseOfPlainDecoding() throws IOException {
    Run plain = run(model, false, BackendKind.VECTOR, 1, new SchedulerLimits(8, 64));
    for (int shards : new int[] {1, 3}) {
      Run speculative = run(model, true, BackendKind.VECTOR, shards, new SchedulerLimits(8, 64));
      for (int i = 0; i < plain.results().size(); i++) {
        assertThat(speculative.results().get(i).tokens()).as("request %d, %d shards", i, shards)
            .containsExactly(plain.results().get(i).tokens());
      }
      assertThat(speculative.logits().keySet()).isEqualTo(plain.logits().keySet());
      plain.logits().forEach((key, l) -> assertThat(speculative.logits().get(key)).as(key).isEqualTo(l));
      BatchScheduler.SpeculationCounts c = speculative.counts();
      System.out.printf("speculative decoding, random MTP module, %d shards: %d drafts, %d accepted (%.2f)%n",
          shards, c.proposed(), c.accepted(), c.accepted() / (double) c.proposed());
      assertThat(c.proposed()).isGreaterThan(300);
    }
    assertThat(plain.counts().proposed()).isZero();
  }

  @Test
  void theScalarBackendAndSmallTokenBudgetsGiveTheSameTokens() throws IOException {
    Run plain = run(withoutMtp, false, BackendKind.SCALAR, 1, new SchedulerLimits(3, 5));
    Run speculative = run(model, true, BackendKind.SCALAR, 2, new SchedulerLimits(3, 5));
    for (int i = 0; i < plain.results().size(); i++) {
      assertThat(speculative.results().get(i).tokens()).as("request %d", i).containsExactly(plain.results().get(i).tokens());
    }
  }

  /**
   * The MTP module's draft logits after a prompt do not depend on how its positions were split
   * into draft chunks: its attention reads its own cache rows causally, like a main layer's.
   */
  @Test
  void draftLogitsDoNotDependOnTheChunking() throws IOException {
    int[] prompt = {0, 17, 244, 3, 98, 311, 7, 45, 200, 12, 9, 400, 5};
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, 2); Model m = Model.load(model, k, true)) {
      ExpertPlacement placement = ExpertPlacement.balanced(m.config(), 2);
      LocalExchange exchange = new LocalExchange(List.of(
          ExpertShard.load(m.checkpoint(), m.config(), placement, 0, true),
          ExpertShard.load(m.checkpoint(), m.config(), placement, 1, true)));
      float[] whole = draft(m, placement, exchange, prompt, new int[] {prompt.length - 1});
      float[] split = draft(m, placement, exchange, prompt, new int[] {4, 5, prompt.length - 1 - 9});
      assertThat(split).isEqualTo(whole);
      assertThat(whole).hasSize(m.config().vocabSize());
    }
  }

  /** Prefills {@code prompt} in one main pass, then drafts its positions 0..n-2 in chunks of the given sizes. */
  private static float[] draft(Model m, ExpertPlacement placement, LocalExchange exchange, int[] prompt, int[] sizes) {
    LatentKvCache cache = m.newCache();
    ForwardPass main = new ForwardPass(m, placement, List.of(new SequenceChunk(cache, prompt, true)));
    exchange.run(main, m.kernels());
    float[] hidden = main.hidden(0);
    int d = m.config().hiddenSize();
    float[] last = null;
    int at = 0;
    for (int c = 0; c < sizes.length; c++) {
      int[] next = Arrays.copyOfRange(prompt, at + 1, at + 1 + sizes[c]);
      float[] h = Arrays.copyOfRange(hidden, at * d, (at + sizes[c]) * d);
      ForwardPass draft = ForwardPass.draft(m, placement, List.of(new DraftChunk(cache, at, next, h, c == sizes.length - 1)));
      exchange.run(draft, m.kernels());
      last = draft.logits(0);
      at += sizes[c];
    }
    cache.release();
    return last;
  }

  @Test
  void aModelWithoutAnMtpModuleSaysSo() {
    assertThatThrownBy(() -> {
      try (KernelBackend k = Backends.cpu(BackendKind.SCALAR, 1); Model m = Model.load(withoutMtp, k, true)) {
        assertThat(m).isNull();
      }
    }).isInstanceOf(CheckpointException.class).hasMessageContaining("needs the MTP module").hasMessageContaining("eh_proj");
  }
}
