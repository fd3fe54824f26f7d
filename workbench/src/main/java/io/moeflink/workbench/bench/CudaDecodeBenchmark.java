package io.moeflink.workbench.bench;


import io.moeflink.engine.kernel.cuda.CudaAvailability;
import io.moeflink.engine.kernel.cuda.CudaBackend;
import io.moeflink.engine.kernel.cuda.CudaBandwidthProbe;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.LatentKvCache;
import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.SequenceChunk;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import io.moeflink.workbench.modelgen.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Decode throughput of the {@code small} preset on CUDA device 0, and the fraction of the GPU's
 * memory bandwidth it reaches: weight bytes read per decode step over the step time, against a
 * device-to-device copy measured in the same run (and the H200's nominal 4.8 TB/s).
 *
 * <p>Usage: {@code CudaDecodeBenchmark [modelDir] [steps]}; the model is generated (BF16, seed 0)
 * into {@code modelDir} when it holds no {@code config.json}. Prints one line per batch size.
 * Without a CUDA device it says so and exits with status 0, so the GPU check runs everywhere.
 */
public final class CudaDecodeBenchmark {
  private static final double H200_NOMINAL_BYTES_PER_SECOND = 4.8e12;
  private static final int[] BATCHES = {1, 16, 32};
  private static final int PROMPT_TOKENS = 16;
  private static final int WARM_UP_TOKENS = 256;

  private CudaDecodeBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir") + "/moe-flink-small-bf16");
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    CudaAvailability cuda = CudaAvailability.probe();
    if (!cuda.available()) {
      System.out.println("no CUDA device: " + cuda.problem() + "; decode benchmark skipped");
      return;
    }
    CudaBandwidthProbe.Result probe = CudaBandwidthProbe.measure(0);
    double copyBandwidth = probe.bytesPerSecond();
    String deviceName = probe.deviceName();
    System.out.printf(Locale.ROOT, "device 0: %s, driver %d; device-to-device copy: %.0f GB/s (read + write)%n",
        deviceName, cuda.driverVersion(), copyBandwidth / 1e9);

    if (!Files.exists(dir.resolve("config.json"))) {
      long t0 = System.nanoTime();
      ModelGenerator.builder(ModelPreset.SMALL.shape()).format(WeightFormat.BF16).seed(0).build().writeTo(dir);
      System.out.printf(Locale.ROOT, "generated the small model in %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
    }

    int hostThreads = Runtime.getRuntime().availableProcessors();
    try (CudaBackend k = CudaBackend.open(0, hostThreads); Model model = Model.load(dir, k)) {
      ExpertPlacement placement = ExpertPlacement.balanced(model.config(), 1);
      ExpertShard shard = ExpertShard.load(model.checkpoint(), model.config(), placement, 0);
      LocalExchange exchange = new LocalExchange(List.of(shard));
      Random random = new Random(1);

      // Warm up: a long prefill routes to (nearly) every expert, so weights are resident before timing.
      LatentKvCache warm = model.newCache();
      exchange.run(new ForwardPass(model, placement, List.of(new SequenceChunk(warm, tokens(random, model, WARM_UP_TOKENS), true))), k);
      long t0 = System.nanoTime();
      exchange.run(new ForwardPass(model, placement,
          List.of(new SequenceChunk(model.newCache(), tokens(random, model, WARM_UP_TOKENS), true))), k);
      double prefillSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "prefill of %d tokens: %.1f tokens/s; %.2f GiB of weights resident on the GPU%n",
          WARM_UP_TOKENS, WARM_UP_TOKENS / prefillSeconds, k.residentBytes() / (double) (1L << 30));

      long expertBytes = shard.bytes() / shard.expertCount();
      int moeLayers = model.config().numHiddenLayers() - model.config().firstKDenseReplace();
      for (int batch : BATCHES) {
        double seconds = decode(model, placement, exchange, k, batch, steps, random);
        // Experts read per layer: top-k for one token, at most every expert for a batch.
        long expertsPerLayer = Math.min((long) batch * model.config().numExpertsPerTok(), model.config().nRoutedExperts());
        long bytesPerStep = model.denseBytesPerStep() + moeLayers * expertsPerLayer * expertBytes;
        double bandwidth = bytesPerStep * steps / seconds;
        System.out.printf(Locale.ROOT,
            "decode batch %2d: %8.1f tokens/s, %6.2f ms/step, %s%.1f GB/s of weights = %.3f of the measured copy bandwidth,"
                + " %.3f of the H200's nominal 4.8 TB/s%n",
            batch, batch * steps / seconds, seconds * 1e3 / steps, batch == 1 ? "" : "at most ", bandwidth / 1e9,
            bandwidth / copyBandwidth, bandwidth / H200_NOMINAL_BYTES_PER_SECOND);
      }
    }
  }

  /** Seconds for {@code steps} decode passes of {@code batch} sequences after a short prefill. */
  private static double decode(
      Model model, ExpertPlacement placement, LocalExchange exchange, CudaBackend k, int batch, int steps, Random random) {
    LatentKvCache[] caches = new LatentKvCache[batch];
    List<SequenceChunk> prompts = new ArrayList<>();
    for (int s = 0; s < batch; s++) {
      caches[s] = model.newCache();
      prompts.add(new SequenceChunk(caches[s], tokens(random, model, PROMPT_TOKENS), true));
    }
    ForwardPass pass = new ForwardPass(model, placement, prompts);
    exchange.run(pass, k);
    int[] next = new int[batch];
    for (int s = 0; s < batch; s++) {
      next[s] = argmax(pass.logits(s));
    }
    long t0 = System.nanoTime();
    for (int step = 0; step < steps; step++) {
      List<SequenceChunk> chunks = new ArrayList<>();
      for (int s = 0; s < batch; s++) {
        chunks.add(new SequenceChunk(caches[s], new int[] {next[s]}, true));
      }
      pass = new ForwardPass(model, placement, chunks);
      exchange.run(pass, k);
      for (int s = 0; s < batch; s++) {
        next[s] = argmax(pass.logits(s));
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static int[] tokens(Random random, Model model, int n) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = random.nextInt(model.config().vocabSize());
    }
    return t;
  }

  private static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
