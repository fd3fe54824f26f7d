package io.moeflink.workbench.bench;

import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.LatentKvCache;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.moe.MoeDispatch;
import io.moeflink.engine.model.SequenceChunk;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Measures a model the way the issue asks, in one run: the machine's read bandwidth, then prefill
 * throughput (its untimed first repetition also maps every weight page), then decode at each batch
 * size with the bytes every step really reads, so that decode can be judged against the bandwidth
 * limit rather than against a guess. Each decode step is followed by a pass of the bandwidth probe
 * ({@link ReadBandwidthProbe}), so a configuration's limit is measured under the same load as its
 * steps.
 *
 * <p>Decode runs the real engine path: one {@link ForwardPass} per step over all sequences, routed
 * experts computed by an in-process {@link ExpertShard} (one shard: the whole model), greedy next
 * tokens. A step is timed from building its pass to the LM head's logits.
 *
 * <pre>{@code
 * try (KernelBackend k = Backends.cpu(BackendKind.AUTO, 2); Model m = Model.load(dir, k)) {
 *   System.out.print(new ModelBenchmark(m, "small-bf16").run(BenchSettings.defaults()).table());
 * }
 * }</pre>
 */
public final class ModelBenchmark {
  /** Seed of the benchmark's prompt tokens, so every run decodes the same sequences. */
  private static final long PROMPT_SEED = 20240101L;

  private final Model model;
  private final String description;
  private final KernelBackend kernels;
  private final ExpertPlacement placement;
  private final List<ExpertShard> shards;
  private final StepTraffic traffic;
  private final FlopCount flops;

  public ModelBenchmark(Model model, String description) {
    this.model = model;
    this.description = description;
    this.kernels = model.kernels();
    this.placement = ExpertPlacement.balanced(model.config(), 1);
    this.shards = List.of(ExpertShard.load(model.checkpoint(), model.config(), placement, 0));
    this.traffic = new StepTraffic(model.denseBytesPerStep(), shards);
    this.flops = new FlopCount(model.config());
  }

  /** Runs every measurement {@code settings} asks for. */
  public BenchReport run(BenchSettings settings) {
    // laid out before anything is timed: else a step that meets an expert first pays for its layout
    model.prepareWeights();
    shards.forEach(shard -> shard.prepareWeights(kernels));
    ReadBandwidthProbe probe = new ReadBandwidthProbe(ArrayReader.best(), kernels, settings.bandwidthBytes());
    BandwidthMeasurement bandwidth = probe.measure(settings.bandwidthPasses());
    FmaProbe fmaProbe = new FmaProbe(kernels);
    FmaMeasurement fma = fmaProbe.measure(settings.fmaPasses());
    List<PrefillMeasurement> prefill = new ArrayList<>();
    for (int length : settings.prefillLengths()) {
      prefill.add(prefill(1, length, settings.prefillRepeats(), fmaProbe));
    }
    if (settings.prefillPrompts() > 0) {
      prefill.add(prefill(settings.prefillPrompts(), settings.prefillPromptTokens(), settings.prefillRepeats(), fmaProbe));
    }
    List<DecodeMeasurement> decode = new ArrayList<>();
    for (int batch : settings.decodeBatches()) {
      decode.add(decode(batch, settings, probe));
    }
    return new BenchReport(description, kernels.name(), kernels.threads(), bandwidth, fma, decode, prefill);
  }

  /**
   * {@code repeats} timed passes (after one untimed) over fresh sequences, each followed by one
   * pass of {@code fmaProbe}: the peak this configuration is judged against (on a shared host the
   * probe swings by 1.5x between minutes).
   */
  PrefillMeasurement prefill(int prompts, int tokensPerPrompt, int repeats, FmaProbe fmaProbe) {
    long[] nanos = new long[repeats];
    double[] peaks = new double[repeats];
    for (int r = -1; r < repeats; r++) {
      List<SequenceChunk> chunks = new ArrayList<>();
      for (int p = 0; p < prompts; p++) {
        chunks.add(new SequenceChunk(model.newCache(), prompt(p, tokensPerPrompt), true));
      }
      long start = System.nanoTime();
      step(chunks, new ArrayList<>());
      if (r >= 0) {
        nanos[r] = System.nanoTime() - start;
        peaks[r] = fmaProbe.pass();
      }
    }
    return new PrefillMeasurement(prompts, tokensPerPrompt, repeats, Medians.of(nanos), flops.prefill(prompts, tokensPerPrompt),
        Medians.of(peaks));
  }

  /**
   * Prefills {@code batch} prompts, runs untimed steps for at least {@code settings.warmupSteps()}
   * steps and {@code settings.warmupNanos()}, then times single-token steps for all of them, each
   * followed by one timed pass of {@code probe}: the limit this configuration is judged against.
   */
  DecodeMeasurement decode(int batch, BenchSettings settings, ReadBandwidthProbe probe) {
    LatentKvCache[] caches = new LatentKvCache[batch];
    List<SequenceChunk> prompts = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      caches[b] = model.newCache();
      prompts.add(new SequenceChunk(caches[b], prompt(b, settings.promptTokens()), true));
    }
    int[] next = greedy(step(prompts, new ArrayList<>()), batch);
    int warmup = 0;
    long warmupStart = System.nanoTime();
    while (settings.warmsUpAfter(warmup, System.nanoTime() - warmupStart)) {
      next = greedy(step(nextTokens(caches, next), new ArrayList<>()), batch);
      warmup++;
    }
    long[] nanos = new long[settings.steps()];
    long[] probeNanos = new long[settings.steps()];
    double bytes = 0;
    double experts = 0;
    long allocated = 0;
    for (int s = 0; s < settings.steps(); s++) {
      List<SequenceChunk> chunks = nextTokens(caches, next);
      List<MoeDispatch> dispatches = new ArrayList<>();
      long allocatedBefore = HeapAllocations.total();
      long start = System.nanoTime();
      ForwardPass pass = step(chunks, dispatches);
      nanos[s] = System.nanoTime() - start;
      allocated += Math.max(0, HeapAllocations.total() - allocatedBefore);
      next = greedy(pass, batch);
      probeNanos[s] = probe.pass();
      StepTraffic.StepBytes read = traffic.of(dispatches);
      bytes += read.total();
      experts += read.distinctExpertsPerLayer();
    }
    int n = settings.steps();
    // the new token at position p attends to p + 1 positions; the timed steps' middle position
    double positions = settings.promptTokens() + warmup + n / 2.0 + 1;
    return new DecodeMeasurement(batch, warmup, n, Medians.of(nanos), bytes / n, model.denseBytesPerStep(), experts / n,
        probe.of(probeNanos), flops.decodeStep(batch, positions), HeapAllocations.counted() ? allocated / (double) n : -1);
  }

  /** One single-token chunk per sequence: its token {@code next[b]}. */
  private static List<SequenceChunk> nextTokens(LatentKvCache[] caches, int[] next) {
    List<SequenceChunk> chunks = new ArrayList<>(caches.length);
    for (int b = 0; b < caches.length; b++) {
      chunks.add(new SequenceChunk(caches[b], new int[] {next[b]}, true));
    }
    return chunks;
  }

  /** One forward pass through the in-process shards, recording each MoE layer's dispatch. */
  private ForwardPass step(List<SequenceChunk> chunks, List<MoeDispatch> dispatches) {
    ForwardPass pass = new ForwardPass(model, placement, chunks);
    MoeDispatch dispatch;
    while ((dispatch = pass.advance()) != null) {
      dispatches.add(dispatch);
      ExpertBatch[] batches = dispatch.batches();
      for (int s = 0; s < batches.length; s++) {
        if (batches[s] != null) {
          pass.accept(s, shards.get(s).compute(kernels, batches[s]));
        }
      }
    }
    return pass;
  }

  private static int[] greedy(ForwardPass pass, int sequences) {
    int[] next = new int[sequences];
    for (int i = 0; i < sequences; i++) {
      float[] logits = pass.logits(i);
      int best = 0;
      for (int v = 1; v < logits.length; v++) {
        if (logits[v] > logits[best]) {
          best = v;
        }
      }
      next[i] = best;
    }
    return next;
  }

  /** Prompt {@code index}: seeded random token ids, different per sequence. */
  private int[] prompt(int index, int tokens) {
    SplittableRandom random = new SplittableRandom(PROMPT_SEED + index);
    int[] ids = new int[tokens];
    for (int i = 0; i < tokens; i++) {
      ids[i] = random.nextInt(model.config().vocabSize());
    }
    return ids;
  }

  StepTraffic traffic() {
    return traffic;
  }
}
