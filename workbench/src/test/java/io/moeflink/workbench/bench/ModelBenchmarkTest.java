package io.moeflink.workbench.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.moe.MoeDispatch;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelShape;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's byte accounting and report on a tiny generated model; no timing assertions. */
class ModelBenchmarkTest {
  private static final int BF16 = 2;

  /** Tiny, but with the small preset's structure: q LoRA, one dense layer, one shared expert. */
  private static final ModelShape SHAPE =
      ModelShape.builder()
          .vocabSize(300)
          .hiddenSize(128)
          .intermediateSize(256)
          .moeIntermediateSize(64)
          .numHiddenLayers(3)
          .firstKDenseReplace(1)
          .numAttentionHeads(2)
          .qLoraRank(48)
          .kvLoraRank(32)
          .qkNopeHeadDim(16)
          .qkRopeHeadDim(8)
          .vHeadDim(16)
          .nRoutedExperts(8)
          .nSharedExperts(1)
          .numExpertsPerTok(2)
          .nGroup(4)
          .topkGroup(2)
          .ropeTheta(10000)
          .ropeScaling(ModelShape.Yarn.of(4, 1024))
          .build();

  @TempDir static Path dir;
  private static KernelBackend kernels;
  private static Model model;

  @BeforeAll
  static void generate() throws Exception {
    ModelGenerator.builder(SHAPE).format(WeightFormat.BF16).seed(3).build().writeTo(dir);
    kernels = Backends.cpu(BackendKind.AUTO, 2);
    model = Model.load(dir, kernels);
  }

  @AfterAll
  static void close() {
    model.close();
    kernels.close();
  }

  /** Weights per routed expert: gate and up (I, D), down (D, I). */
  private static long expertBytes() {
    return 3L * SHAPE.moeIntermediateSize() * SHAPE.hiddenSize() * BF16;
  }

  @Test
  void denseBytesCountEveryProjectionAStepReadsOnce() {
    long d = SHAPE.hiddenSize();
    long heads = SHAPE.numAttentionHeads();
    long rank = SHAPE.kvLoraRank();
    long attention = SHAPE.qLoraRank() * d * BF16 // q_a_proj
        + heads * (SHAPE.qkNopeHeadDim() + SHAPE.qkRopeHeadDim()) * SHAPE.qLoraRank() * BF16 // q_b_proj
        + (rank + SHAPE.qkRopeHeadDim()) * d * BF16 // kv_a_proj_with_mqa
        + heads * rank * SHAPE.qkNopeHeadDim() * BF16 // key up-projection, transposed at load, still BF16
        + heads * SHAPE.vHeadDim() * rank * BF16 // value up-projection rows of kv_b_proj
        + d * heads * SHAPE.vHeadDim() * BF16; // o_proj
    long denseMlp = 3L * SHAPE.intermediateSize() * d * BF16;
    long perMoeLayer = SHAPE.nRoutedExperts() * d * BF16 + expertBytes(); // router + one shared expert
    long lmHead = SHAPE.vocabSize() * d * BF16;
    assertThat(model.denseBytesPerStep())
        .isEqualTo(3 * attention + denseMlp + 2 * perMoeLayer + lmHead);
  }

  @Test
  void stepBytesAddEachDistinctExpertOncePerLayer() {
    ExpertPlacement placement = ExpertPlacement.balanced(model.config(), 2);
    List<ExpertShard> shards = List.of(
        ExpertShard.load(model.checkpoint(), model.config(), placement, 0),
        ExpertShard.load(model.checkpoint(), model.config(), placement, 1));
    StepTraffic traffic = new StepTraffic(1000, shards);
    float[] hidden = new float[3 * SHAPE.hiddenSize()];
    // layer 1: tokens share experts 1 and 6; layer 2: one token only
    MoeDispatch layer1 = new MoeDispatch(1, new ExpertBatch[] {
        new ExpertBatch(1, 3, hidden, new int[] {1, 3}, new int[] {0, 2, 3}, new int[] {0, 1, 2}),
        new ExpertBatch(1, 3, hidden, new int[] {5, 6}, new int[] {0, 1, 3}, new int[] {2, 0, 1})});
    MoeDispatch layer2 = new MoeDispatch(2, new ExpertBatch[] {
        null, new ExpertBatch(2, 1, new float[SHAPE.hiddenSize()], new int[] {4, 7}, new int[] {0, 1, 2}, new int[] {0, 0})});

    StepTraffic.StepBytes read = traffic.of(List.of(layer1, layer2));

    assertThat(read.distinctExperts()).isEqualTo(4 + 2);
    assertThat(read.total()).isEqualTo(1000 + 6 * expertBytes());
    assertThat(read.distinctExpertsPerLayer()).isEqualTo(3.0);
  }

  @Test
  void reportsEveryConfigurationWithItsBytesAndRatio() {
    BenchSettings settings = new BenchSettings(new int[] {1, 3}, 4, 1, 0, 2, new int[] {6, 9}, 2, 3, 1, 1 << 20, 2, 1);

    BenchReport report = new ModelBenchmark(model, "tiny").run(settings);

    assertThat(report.decode()).extracting(DecodeMeasurement::batch).containsExactly(1, 3);
    for (DecodeMeasurement d : report.decode()) {
      int k = SHAPE.numExpertsPerTok();
      assertThat(d.expertsPerLayer()).isBetween((double) k, (double) Math.min(SHAPE.nRoutedExperts(), d.batch() * k));
      assertThat(d.bytesPerStep())
          .isCloseTo(model.denseBytesPerStep() + d.expertsPerLayer() * SHAPE.moeLayers() * expertBytes(), within(1e-3));
      assertThat(d.ratio()).isPositive();
      assertThat(d.warmupSteps()).as("no warm-up time asked: the steps asked").isEqualTo(1);
      assertThat(d.allocatedBytesPerStep()).as("a step allocates its activations; HotSpot counts them").isPositive();
    }
    assertThat(report.prefill()).extracting(p -> p.prompts() + "x" + p.tokensPerPrompt())
        .containsExactly("1x6", "1x9", "2x3");
    assertThat(report.table()).contains("decode b=1", "decode b=3", "prefill 1x6", "prefill 2x3", "GB/s limit", "ratio",
        "FMA peak", "FMA limit", "FMA frac");
    assertThat(report.fma().flopsPerSecond()).isPositive();
    for (PrefillMeasurement p : report.prefill()) {
      assertThat(p.peakFlopsPerSecond()).as("the probe between the passes").isPositive();
      assertThat(p.fmaFraction()).isEqualTo(p.flopsPerSecond() / p.peakFlopsPerSecond());
    }
    FlopCount count = new FlopCount(model.config());
    assertThat(report.prefill().get(0).flops()).isEqualTo(count.prefill(1, 6));
    // prefill: per token every layer's projections, the LM head once, the attention over 1 + 2 + ... + 6 positions
    assertThat(count.prefill(1, 6)).isEqualTo(6.0 * count.projectionsPerToken() + count.lmHead() + count.attention(21));
    for (DecodeMeasurement d : report.decode()) {
      assertThat(d.flopsPerStep()).isGreaterThan(d.batch() * (double) (count.projectionsPerToken() + count.lmHead()));
    }
    JsonNode json = report.toJson();
    assertThat(json.get("read_bandwidth").get("bytes_per_second").asDouble()).isPositive();
    assertThat(json.get("decode").get(1).fieldNames()).toIterable().contains(
        "batch", "warmup_steps", "tokens_per_second", "median_step_ns", "bytes_per_step", "experts_per_layer", "bytes_per_second",
        "limit_bytes_per_second", "ratio", "flops_per_step", "fma_peak_fraction", "allocated_bytes_per_step");
    assertThat(json.get("fma_peak").get("flops_per_second").asDouble()).isPositive();
    assertThat(json.get("prefill").get(0).get("tokens_per_second").asDouble()).isPositive();
    assertThat(json.get("prefill").get(0).get("fma_limit_flops_per_second").asDouble())
        .isEqualTo(report.prefill().get(0).peakFlopsPerSecond());
  }

  @Test
  void warmsUpForTheTimeAskedWithinItsCap() {
    ModelBenchmark bench = new ModelBenchmark(model, "tiny");
    ReadBandwidthProbe probe = new ReadBandwidthProbe(ArrayReader.best(), kernels, 1 << 16);
    BenchSettings forTime = new BenchSettings(new int[] {1}, 4, 2, 300_000_000L, 1, new int[0], 0, 1, 1, 1 << 16, 1, 1);
    BenchSettings forever = new BenchSettings(new int[] {1}, 4, 2, Long.MAX_VALUE, 1, new int[0], 0, 1, 1, 1 << 16, 1, 1);

    long start = System.nanoTime();
    DecodeMeasurement timed = bench.decode(1, forTime, probe);
    long elapsed = System.nanoTime() - start;
    DecodeMeasurement capped = bench.decode(1, forever, probe);

    assertThat(timed.warmupSteps()).as("time adds steps").isBetween(3, 2 + BenchSettings.MAX_EXTRA_WARMUP_STEPS);
    if (timed.warmupSteps() < 2 + BenchSettings.MAX_EXTRA_WARMUP_STEPS) {
      assertThat(elapsed).as("short of the cap, the warm-up ran for the time asked").isGreaterThanOrEqualTo(300_000_000L);
    }
    assertThat(capped.warmupSteps()).isEqualTo(2 + BenchSettings.MAX_EXTRA_WARMUP_STEPS);
  }

  @Test
  void warnsOfADecodeThatAllocatesLikeUncompiledVectorCode() {
    BandwidthMeasurement bandwidth = new BandwidthMeasurement(1 << 20, 2, 3, 50_000, 2e10, 0);
    FmaMeasurement fma = new FmaMeasurement(1e11, 2, "512-bit vectors", 0);
    DecodeMeasurement compiled = new DecodeMeasurement(16, 5, 10, 80_000_000, 1e9, 100_000_000, 40, bandwidth, 1e9, 16 * 1.1e6);
    DecodeMeasurement boxing = new DecodeMeasurement(1, 5, 10, 30_000_000, 3e8, 100_000_000, 6, bandwidth, 1e8, 32e6);

    String table = new BenchReport("m", "vector", 2, bandwidth, fma, List.of(compiled, boxing), List.of()).table();

    assertThat(table).contains("warning: decode b=1 allocated 32.0 MB a step").doesNotContain("warning: decode b=16");
  }

  @Test
  void rejectsSettingsThatMeasureNothing() {
    assertThatThrownBy(() -> new BenchSettings(new int[] {0}, 4, 1, 0, 2, new int[] {6}, 2, 3, 1, 1 << 20, 2, 1))
        .hasMessageContaining("decode batch is 0");
    assertThatThrownBy(() -> new BenchSettings(new int[] {1}, 4, 1, 0, 0, new int[] {6}, 2, 3, 1, 1 << 20, 2, 1))
        .hasMessageContaining("steps is 0");
  }
}
