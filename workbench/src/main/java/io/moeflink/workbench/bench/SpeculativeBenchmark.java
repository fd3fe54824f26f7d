package io.moeflink.workbench.bench;

import io.moeflink.engine.generate.BatchScheduler;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Decode with and without MTP speculative decoding, in one run: for each batch size, the same
 * greedy requests through a {@link Generator} of the plain model and of the model with its MTP
 * module, timed whole and with one token (the prefill alone), so that decode tokens/s is {@code
 * batch * (tokens - 1)} over the difference. The tokens of both are checked equal.
 *
 * <pre>{@code
 * try (Model plain = Model.load(dir, k); Model mtp = Model.load(dir, k, true)) {
 *   System.out.print(SpeculativeBenchmark.table(new SpeculativeBenchmark(plain, mtp, prompts).run(new int[] {1, 16}, 48, 3)));
 * }
 * }</pre>
 */
public final class SpeculativeBenchmark {

  /** One batch size: decode tokens/s of each, the drafts verified and accepted. */
  public record Row(int batch, int tokens, double plainTokensPerSecond, double mtpTokensPerSecond, long proposed,
      long accepted) {

    public double acceptance() {
      return proposed == 0 ? 0 : accepted / (double) proposed;
    }

    public double speedup() {
      return mtpTokensPerSecond / plainTokensPerSecond;
    }
  }

  private final Model plain;
  private final Model mtp;
  private final List<int[]> prompts;

  /** {@code prompts} are cycled through to fill each batch. */
  public SpeculativeBenchmark(Model plain, Model mtp, List<int[]> prompts) {
    if (plain.hasMtp() || !mtp.hasMtp()) {
      throw new IllegalArgumentException("Give the model loaded without and then with its MTP module");
    }
    this.plain = plain;
    this.mtp = mtp;
    this.prompts = List.copyOf(prompts);
  }

  /** Each batch size, {@code tokens} greedy tokens per request, the median of {@code repeats} runs. */
  public List<Row> run(int[] batches, int tokens, int repeats) {
    List<Row> rows = new ArrayList<>();
    for (int batch : batches) {
      Timing p = time(plain, batch, tokens, repeats);
      Timing m = time(mtp, batch, tokens, repeats);
      if (!p.tokens().equals(m.tokens())) {
        throw new IllegalStateException("Speculative decoding changed the tokens at batch " + batch);
      }
      rows.add(new Row(batch, tokens, p.tokensPerSecond(), m.tokensPerSecond(), m.counts().proposed(),
          m.counts().accepted()));
    }
    return rows;
  }

  private record Timing(double tokensPerSecond, List<String> tokens, BatchScheduler.SpeculationCounts counts) {}

  private Timing time(Model model, int batch, int tokens, int repeats) {
    Generator generator = new Generator(model, 1, new SchedulerLimits(Math.max(batch, 1), 256), null);
    long[] decode = new long[repeats];
    List<String> produced = null;
    for (int r = -1; r < repeats; r++) { // one untimed run maps the weights
      long start = System.nanoTime();
      generator.generate(requests(batch, 1));
      long prefill = System.nanoTime() - start;
      start = System.nanoTime();
      List<GenerationResult> results = generator.generate(requests(batch, tokens));
      long whole = System.nanoTime() - start;
      if (r >= 0) {
        decode[r] = Math.max(1, whole - prefill);
      }
      produced = results.stream().map(x -> Arrays.toString(x.tokens())).toList();
    }
    double seconds = Medians.of(decode) / 1e9;
    return new Timing(batch * (tokens - 1) / seconds, produced, generator.speculationCounts());
  }

  private List<GenerationRequest> requests(int batch, int tokens) {
    List<GenerationRequest> out = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      out.add(new GenerationRequest("b" + b, prompts.get(b % prompts.size()), SamplingParams.greedy(tokens)));
    }
    return out;
  }

  /** The rows as a table. */
  public static String table(List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "%-6s %-7s %-14s %-14s %-8s %-10s%n", "batch", "tokens", "plain tok/s", "mtp tok/s", "speedup", "accepted"));
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%-6d %-7d %-14.1f %-14.1f %-8.2f %d/%d (%.2f)%n", r.batch(), r.tokens(),
          r.plainTokensPerSecond(), r.mtpTokensPerSecond(), r.speedup(), r.accepted(), r.proposed(), r.acceptance()));
    }
    return sb.toString();
  }
}
