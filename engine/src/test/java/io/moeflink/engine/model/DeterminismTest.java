package io.moeflink.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import io.moeflink.engine.moe.MoeDispatch;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sequence's logits are bitwise identical whatever it is batched with, however the experts are
 * sharded and placed, however many kernel threads run, and whether its tokens were fed by prefill,
 * chunked prefill or one at a time (DESIGN.md, Determinism).
 */
class DeterminismTest {
  private static final int[] PROMPT = {0, 17, 244, 3, 98, 311, 7, 45, 200, 12, 9};
  private static Model model;

  @BeforeAll
  static void load() throws Exception {
    model = Model.load(GoldenFixture.load("fp8").dir(), Backends.cpu(BackendKind.AUTO, 2));
  }

  @AfterAll
  static void close() {
    model.kernels().close();
    model.close();
  }

  static LocalExchange exchange(Model m, ExpertPlacement placement) {
    List<ExpertShard> shards = new ArrayList<>();
    for (int s = 0; s < placement.shards(); s++) {
      shards.add(ExpertShard.load(m.checkpoint(), m.config(), placement, s));
    }
    return new LocalExchange(shards);
  }

  /** Feeds {@code chunks} of one sequence pass by pass; returns the logits after each pass. */
  static List<float[]> run(Model m, ExpertPlacement placement, int[][] chunks) {
    LocalExchange exchange = exchange(m, placement);
    LatentKvCache cache = m.newCache();
    List<float[]> out = new ArrayList<>();
    for (int[] chunk : chunks) {
      ForwardPass pass = new ForwardPass(m, placement, List.of(new SequenceChunk(cache, chunk, true)));
      exchange.run(pass, m.kernels());
      out.add(pass.logits(0));
    }
    return out;
  }

  static float[] last(List<float[]> logits) {
    return logits.get(logits.size() - 1);
  }

  private static ExpertPlacement balanced(int shards) {
    return ExpertPlacement.balanced(model.config(), shards);
  }

  @Test
  void logitsDoNotDependOnTheBatch() {
    float[] alone = last(run(model, balanced(2), new int[][] {PROMPT}));

    ExpertPlacement placement = balanced(2);
    LocalExchange exchange = exchange(model, placement);
    LatentKvCache other = model.newCache();
    ForwardPass warmUp = new ForwardPass(model, placement, List.of(new SequenceChunk(other, new int[] {0, 5, 6, 7, 8}, true)));
    exchange.run(warmUp, model.kernels());
    LatentKvCache target = model.newCache();
    ForwardPass mixed = new ForwardPass(model, placement, List.of(
        new SequenceChunk(model.newCache(), new int[] {0, 400, 401}, true),
        new SequenceChunk(other, new int[] {9}, true), // a decode token of another sequence
        new SequenceChunk(target, PROMPT, true),
        new SequenceChunk(model.newCache(), new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, false)));
    exchange.run(mixed, model.kernels());
    assertBitwiseEqual(mixed.logits(2), alone, "alone vs batched with three other sequences");
  }

  @ParameterizedTest(name = "{0} shards")
  @ValueSource(ints = {2, 3, 5})
  void logitsDoNotDependOnTheNumberOfShards(int shards) {
    int[][] chunks = {PROMPT, {33}, {34}};
    List<float[]> one = run(model, balanced(1), chunks);
    List<float[]> many = run(model, balanced(shards), chunks);
    for (int i = 0; i < chunks.length; i++) {
      assertBitwiseEqual(many.get(i), one.get(i), shards + " shards vs 1, pass " + i);
    }
  }

  /**
   * The Flink operator runs a layer's shared experts while the shards compute, the engine alone
   * when the last result arrives; the logits are the same bits.
   */
  @Test
  void weightsPreparedBeforeTheFirstStepGiveTheSameLogitsAndNoStepLaysOutMore() throws Exception {
    float[] lazy = last(run(model, balanced(2), new int[][] {PROMPT, {5}, {6}}));
    try (KernelBackend k = Backends.cpu(BackendKind.AUTO, 2);
        Model prepared = Model.load(GoldenFixture.load("fp8").dir(), k)) {
      ExpertPlacement placement = balanced(2);
      LocalExchange exchange = exchange(prepared, placement);
      prepared.prepareWeights();
      for (ExpertShard shard : exchange.shards()) {
        shard.prepareWeights(k);
      }
      long laidOut = WeightMatrix.laidOutBytes();
      LatentKvCache cache = prepared.newCache();
      float[] logits = null;
      for (int[] chunk : new int[][] {PROMPT, {5}, {6}}) {
        ForwardPass pass = new ForwardPass(prepared, placement, List.of(new SequenceChunk(cache, chunk, true)));
        exchange.run(pass, k);
        logits = pass.logits(0);
      }
      assertThat(logits).isEqualTo(lazy);
      // a step that laid out a weight the preparation missed would add its bytes
      assertThat(WeightMatrix.laidOutBytes()).isEqualTo(laidOut);
    }
  }

  @Test
  void sharedExpertsRunWhileShardsComputeGiveTheSameLogits() {
    ExpertPlacement placement = balanced(2);
    List<ExpertShard> shards = List.of(
        ExpertShard.load(model.checkpoint(), model.config(), placement, 0),
        ExpertShard.load(model.checkpoint(), model.config(), placement, 1));
    ForwardPass early = new ForwardPass(model, placement, List.of(new SequenceChunk(model.newCache(), PROMPT, true)));
    MoeDispatch dispatch;
    int layers = 0;
    while ((dispatch = early.advance()) != null) {
      early.runSharedExperts();
      early.runSharedExperts(); // a second call changes nothing
      ExpertBatch[] batches = dispatch.batches();
      for (int s = 0; s < batches.length; s++) {
        if (batches[s] != null) {
          early.accept(s, shards.get(s).compute(model.kernels(), batches[s]));
        }
      }
      layers++;
    }
    assertThat(layers).isEqualTo(model.config().numHiddenLayers() - model.config().firstKDenseReplace());
    assertBitwiseEqual(early.logits(0), last(run(model, placement, new int[][] {PROMPT})), "shared experts early vs at combine");
    org.assertj.core.api.Assertions.assertThatThrownBy(early::runSharedExperts)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("No MoE layer is in flight");
  }

  @Test
  void logitsDoNotDependOnThePlacement() {
    Random random = new Random(7);
    StringBuilder spec = new StringBuilder();
    for (int e = 0; e < model.config().nRoutedExperts(); e++) {
      spec.append(e == 0 ? "" : ",").append(random.nextInt(3));
    }
    ExpertPlacement scattered = ExpertPlacement.parse(model.config(), 3, spec.toString());
    assertThat(scattered).isNotEqualTo(balanced(3));
    assertBitwiseEqual(last(run(model, scattered, new int[][] {PROMPT})), last(run(model, balanced(3), new int[][] {PROMPT})),
        "placement " + spec + " vs balanced");
  }

  @ParameterizedTest(name = "{0} backend")
  @ValueSource(strings = {"scalar", "vector"})
  void logitsDoNotDependOnTheNumberOfThreads(String backend) throws Exception {
    float[][] results = new float[3][];
    int[] threads = {1, 2, 3};
    for (int i = 0; i < threads.length; i++) {
      try (KernelBackend k = Backends.cpu(BackendKind.parse(backend), threads[i]);
          Model m = Model.load(GoldenFixture.load("bf16").dir(), k)) {
        results[i] = last(run(m, ExpertPlacement.balanced(m.config(), 2), new int[][] {PROMPT, {77}}));
      }
    }
    assertBitwiseEqual(results[1], results[0], backend + ": 2 threads vs 1");
    assertBitwiseEqual(results[2], results[0], backend + ": 3 threads vs 1");
  }

  @Test
  void reprefillEqualsIncrementalDecode() {
    int[] generated = {101, 7, 300};
    List<float[]> incremental = run(model, balanced(2), new int[][] {PROMPT, {generated[0]}, {generated[1]}, {generated[2]}});
    int[] all = new int[PROMPT.length + generated.length];
    System.arraycopy(PROMPT, 0, all, 0, PROMPT.length);
    System.arraycopy(generated, 0, all, PROMPT.length, generated.length);
    float[] reprefilled = last(run(model, balanced(2), new int[][] {all}));
    assertBitwiseEqual(reprefilled, last(incremental), "re-prefill of prompt + 3 generated vs incremental decode");
  }

  @Test
  void chunkedPrefillEqualsFullPrefill() {
    float[] full = last(run(model, balanced(1), new int[][] {PROMPT}));
    int[][] chunks = {
      java.util.Arrays.copyOfRange(PROMPT, 0, 4),
      java.util.Arrays.copyOfRange(PROMPT, 4, 5),
      java.util.Arrays.copyOfRange(PROMPT, 5, PROMPT.length)
    };
    assertBitwiseEqual(last(run(model, balanced(1), chunks)), full, "chunks of 4, 1, 6 vs one prefill");
  }

  static void assertBitwiseEqual(float[] actual, float[] expected, String what) {
    assertThat(actual).as("%s: length", what).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
        throw new AssertionError(what + ": logit " + i + " differs: " + actual[i] + " vs " + expected[i]);
      }
    }
  }
}
