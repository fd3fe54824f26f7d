package io.moeflink.engine.model;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.cuda.CudaAvailability;
import io.moeflink.engine.moe.ExpertPlacement;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The golden tests and the batch, shard and re-prefill invariances of {@link DeterminismTest} on
 * the CUDA backend (device 0), with the CPU backends' tolerances. Skipped where no CUDA device is
 * present.
 */
@Tag("gpu")
class GoldenCudaTest {
  private static final int[] PROMPT = {0, 17, 244, 3, 98, 311, 7, 45, 200, 12, 9};

  /** Per test rather than per class, so that each skipped test is reported as skipped. */
  @BeforeEach
  void needsCuda() {
    CudaAvailability probe = CudaAvailability.probe();
    assumeTrue(probe.available(), () -> "no CUDA device: " + probe.problem());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bf16", "fp8"})
  void prefillLogitsAndGreedyTokensMatchTheReference(String variant) throws Exception {
    GoldenTest.checkPrefillAndGreedyTokens(variant, "cuda");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bf16", "fp8"})
  void everyDecodeStepMatchesTheReference(String variant) throws Exception {
    GoldenTest.checkEveryDecodeStep(variant, "cuda");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bf16", "fp8"})
  void routerChoosesTheReferenceExpertsAndWeights(String variant) throws Exception {
    GoldenTest.checkRouter(variant, "cuda");
  }

  @Test
  void logitsDoNotDependOnTheBatchOrTheShards() throws Exception {
    try (KernelBackend k = Backends.create(BackendKind.CUDA, 2, 0); Model m = Model.load(GoldenFixture.load("fp8").dir(), k)) {
      float[] alone = DeterminismTest.last(DeterminismTest.run(m, ExpertPlacement.balanced(m.config(), 1), new int[][] {PROMPT}));
      float[] sharded = DeterminismTest.last(DeterminismTest.run(m, ExpertPlacement.balanced(m.config(), 3), new int[][] {PROMPT}));
      DeterminismTest.assertBitwiseEqual(sharded, alone, "cuda: 3 shards vs 1");

      ExpertPlacement placement = ExpertPlacement.balanced(m.config(), 2);
      LocalExchange exchange = DeterminismTest.exchange(m, placement);
      LatentKvCache target = m.newCache();
      ForwardPass mixed = new ForwardPass(m, placement, List.of(
          new SequenceChunk(m.newCache(), new int[] {0, 400, 401}, true),
          new SequenceChunk(target, PROMPT, true),
          new SequenceChunk(m.newCache(), new int[] {5, 6, 7, 8, 9, 10, 11, 12, 13}, false)));
      exchange.run(mixed, k);
      DeterminismTest.assertBitwiseEqual(mixed.logits(1), alone, "cuda: alone vs batched with two other sequences");
    }
  }

  @Test
  void reprefillEqualsIncrementalDecode() throws Exception {
    try (KernelBackend k = Backends.create(BackendKind.CUDA, 2, 0); Model m = Model.load(GoldenFixture.load("bf16").dir(), k)) {
      ExpertPlacement placement = ExpertPlacement.balanced(m.config(), 2);
      int[] generated = {101, 7, 300};
      float[] incremental = DeterminismTest.last(DeterminismTest.run(m, placement,
          new int[][] {PROMPT, {generated[0]}, {generated[1]}, {generated[2]}}));
      int[] all = new int[PROMPT.length + generated.length];
      System.arraycopy(PROMPT, 0, all, 0, PROMPT.length);
      System.arraycopy(generated, 0, all, PROMPT.length, generated.length);
      float[] reprefilled = DeterminismTest.last(DeterminismTest.run(m, placement, new int[][] {all}));
      DeterminismTest.assertBitwiseEqual(reprefilled, incremental, "cuda: re-prefill vs incremental decode");
    }
  }
}
