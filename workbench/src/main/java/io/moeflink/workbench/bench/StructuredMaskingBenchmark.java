package io.moeflink.workbench.bench;

import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.ConstraintCursor;
import io.moeflink.engine.structured.StructuredOutput;
import io.moeflink.engine.structured.TokenConstraint;
import io.moeflink.engine.tokenizer.BundledTokenizer;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * What structured output costs per decode step: the masking of one step (every sequence of a batch
 * masked by its schema, masks memoized) next to the decode step itself, on generated models. The
 * masks use the bundled DeepSeek-V3 vocabulary (129280 logits on {@code tiny}; {@code small} has
 * 32000 logits and no tokenizer of its own, so its first 32000 ids stand in).
 *
 * <p>Usage: {@code StructuredMaskingBenchmark <model-cache-dir> [tiny] [small] [checkpoint-dir] ...}; prints one
 * line per model. A tool, not a test: it asserts nothing about speed.
 */
public final class StructuredMaskingBenchmark {

  private static final int BATCH = 8;
  private static final int TOKENS = 32;
  private static final int THREADS = 2;

  private StructuredMaskingBenchmark() {}

  public static void main(String[] args) throws IOException {
    Path cache = Path.of(args.length > 0 ? args[0] : "target/bench-models");
    Path tokenizerDir = Files.createTempDirectory("tokenizer");
    BundledTokenizer.writeTo(tokenizerDir);
    Tokenizer tokenizer = Tokenizer.load(tokenizerDir);
    for (int a = 1; a < Math.max(args.length, 2); a++) {
      String preset = args.length > a ? args[a] : "tiny";
      Path given = Path.of(preset);
      if (Files.exists(given.resolve("config.json"))) { // a checkpoint directory, with its own tokenizer if it has one
        measure(given.toString(), given, Tokenizer.isPresentIn(given) ? Tokenizer.load(given) : tokenizer);
        continue;
      }
      Path dir = cache.resolve(preset);
      if (!Files.exists(dir.resolve("config.json"))) {
        ModelGenerator.builder(ModelPreset.valueOf(preset.toUpperCase(Locale.ROOT)).shape()).seed(5).build()
            .writeTo(dir);
      }
      measure(preset, dir, tokenizer);
    }
  }

  private static void measure(String preset, Path dir, Tokenizer tokenizer) throws IOException {
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, THREADS); Model model = Model.load(dir, k, false)) {
      int vocab = model.config().vocabSize();
      Generator generator = new Generator(model, 1, new SchedulerLimits(BATCH, 256), null);
      List<GenerationRequest> free = new ArrayList<>();
      for (int b = 0; b < BATCH; b++) {
        free.add(new GenerationRequest("f" + b, new int[] {0, 10 + b, 20 + b}, SamplingParams.greedy(TOKENS)));
      }
      generator.generate(free); // warm up
      long start = System.nanoTime();
      generator.generate(free);
      double stepMillis = (System.nanoTime() - start) / 1e6 / TOKENS;

      // the constrained token sequences of this model, then their masks replayed: cold, then warm
      StructuredOutput structured = new StructuredOutput(tokenizer);
      int eos = tokenizer.eosId().orElseThrow();
      List<GenerationRequest> constrained = new ArrayList<>();
      for (int b = 0; b < StructuredSchemas.RESPONSE_FORMATS.size() * 2; b++) {
        TokenConstraint c = structured.constraint(StructuredSchemas.RESPONSE_FORMATS.get(b % 10));
        SamplingParams sampling = new SamplingParams(0.9, 0, 1, b, 48, Set.of(eos), List.of());
        constrained.add(new GenerationRequest("c" + b, new int[] {0, 30 + b}, sampling, c));
      }
      List<GenerationResult> results = generator.generate(constrained);
      StructuredOutput fresh = new StructuredOutput(tokenizer);
      long[] cold = replay(fresh, results, constrained, vocab, eos);
      long[] warm = replay(fresh, results, constrained, vocab, eos);
      double maskMillis = warm[0] / 1e6 / warm[1];
      System.out.printf(Locale.ROOT,
          "%s: decode step (batch %d, %d logits) %.2f ms; masking one sequence %.3f ms warm (%.2f ms cold, first"
              + " use of each state), %.2f ms per step of %d; ratio masking/step %.3f%n",
          preset, BATCH, vocab, stepMillis, maskMillis, cold[0] / 1e6 / cold[1], maskMillis * BATCH, BATCH,
          maskMillis * BATCH / stepMillis);
    }
  }

  /** Masks every step of the results again; returns {total nanoseconds, masked steps}. */
  private static long[] replay(
      StructuredOutput structured, List<GenerationResult> results, List<GenerationRequest> requests, int vocab, int eos) {
    float[] logits = new float[vocab];
    Random random = new Random(1);
    for (int i = 0; i < vocab; i++) {
      logits[i] = (float) random.nextGaussian();
    }
    long nanos = 0;
    long steps = 0;
    for (int r = 0; r < results.size(); r++) {
      GenerationRequest request = requests.get(r);
      TokenConstraint c = structured.constraint(request.constraint().format());
      ConstraintCursor cursor = new ConstraintCursor(c, Set.of(eos));
      int[] tokens = results.get(r).tokens();
      for (int t = 0; t < tokens.length; t++) {
        long start = System.nanoTime();
        float[] masked = cursor.mask(logits, request.sampling().maxTokens() - t);
        nanos += System.nanoTime() - start;
        steps += masked == null ? 0 : 1;
        cursor.advance(tokens[t]);
      }
    }
    return new long[] {nanos, steps};
  }
}
