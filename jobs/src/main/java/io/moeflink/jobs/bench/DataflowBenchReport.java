package io.moeflink.jobs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The figures of one {@link DataflowBenchmark} run: output tokens/s of the engine alone and of each
 * dataflow configuration, with two ratios to the engine: of the medians, and the median of the
 * per-repeat ratios (each dataflow run against the engine run of the same repeat, which cancels
 * most of a shared machine's drift).
 *
 * @param model the checkpoint directory
 * @param backend the kernel backend's name
 * @param configs the engine alone first, then each dataflow configuration
 */
public record DataflowBenchReport(String model, String backend, DataflowBenchSettings settings, List<ConfigFigures> configs) {

  public DataflowBenchReport {
    configs = List.copyOf(configs);
  }

  public ConfigFigures engine() {
    return configs.get(0);
  }

  /** Median tokens/s of {@code c} over the engine alone's. */
  public double ratioOfMedians(ConfigFigures c) {
    return c.medianTokensPerSecond() / engine().medianTokensPerSecond();
  }

  /** Median over the repeats of {@code c}'s tokens/s over the engine alone's in the same repeat. */
  public double pairedRatio(ConfigFigures c) {
    double[] mine = c.tokensPerSecond();
    double[] base = engine().tokensPerSecond();
    double[] ratios = new double[mine.length];
    for (int i = 0; i < mine.length; i++) {
      ratios[i] = mine[i] / base[i];
    }
    return ConfigFigures.median(ratios);
  }

  /** Whether every dataflow run produced exactly the engine's tokens. */
  public boolean tokensEqual() {
    return configs.stream().allMatch(ConfigFigures::tokensEqualEngine);
  }

  /** A fixed-width table for people. */
  public String table() {
    DataflowBenchSettings s = settings;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "model %s, backend %s, %d kernel threads per engine and per operator instance%n",
        model, backend, s.threads()));
    sb.append(String.format(Locale.ROOT,
        "%d requests x %d prompt tokens, %d output tokens each; max %d sequences, token budget %d; %d repeats%n",
        s.requests(), s.promptTokens(), s.maxTokens(), s.limits().maxSequences(), s.limits().tokenBudget(), s.repeats()));
    sb.append(String.format(Locale.ROOT, "%-18s %10s %-28s %7s %7s  %s%n",
        "config", "tokens/s", "runs (tokens/s)", "ratio", "paired", "tokens"));
    for (ConfigFigures c : configs) {
      String runs = java.util.Arrays.stream(c.tokensPerSecond())
          .mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).collect(Collectors.joining(" / "));
      sb.append(String.format(Locale.ROOT, "%-18s %10.1f %-28s %7.2f %7.2f  %s%n",
          c.name(), c.medianTokensPerSecond(), runs, ratioOfMedians(c), pairedRatio(c),
          c == engine() ? "reference" : c.tokensEqualEngine() ? "equal" : "DIFFERENT"));
    }
    return sb.toString();
  }

  /** The same figures as JSON, in base units (tokens, nanoseconds). */
  public ObjectNode toJson() {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("model", model);
    root.put("backend", backend);
    root.put("threads", settings.threads());
    root.put("requests", settings.requests());
    root.put("prompt_tokens", settings.promptTokens());
    root.put("max_tokens", settings.maxTokens());
    root.put("max_sequences", settings.limits().maxSequences());
    root.put("token_budget", settings.limits().tokenBudget());
    root.put("repeats", settings.repeats());
    root.put("tokens_equal", tokensEqual());
    ArrayNode list = root.putArray("configs");
    for (ConfigFigures c : configs) {
      ObjectNode o = list.addObject();
      o.put("name", c.name());
      o.put("generation_parallelism", c.generationParallelism());
      o.put("expert_shards", c.expertShards());
      o.put("median_tokens_per_second", c.medianTokensPerSecond());
      o.put("ratio_of_medians", ratioOfMedians(c));
      o.put("paired_ratio", pairedRatio(c));
      o.put("tokens_equal_engine", c.tokensEqualEngine());
      ArrayNode runs = o.putArray("runs");
      for (ConfigFigures.Run r : c.runs()) {
        ObjectNode run = runs.addObject();
        run.put("tokens", r.tokens());
        run.put("ns", r.nanos());
        run.put("tokens_per_second", r.tokensPerSecond());
      }
    }
    return root;
  }
}
