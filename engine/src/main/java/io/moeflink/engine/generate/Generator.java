package io.moeflink.engine.generate;

import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.PrefixCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The engine alone: a model, its expert shards in this process, and a continuous-batching loop.
 * Used by {@code generate}, {@code bench} and tests; the Flink job computes the same tokens.
 */
public final class Generator {
  private final Model model;
  private final ExpertPlacement placement;
  private final LocalExchange exchange;
  private final SchedulerLimits limits;
  private final TextDecoder decoder;
  /** Prefixes kept across {@code generate} calls, or null. */
  private PrefixCache prefixCache;
  private BatchScheduler.SpeculationCounts speculation = new BatchScheduler.SpeculationCounts(0, 0);

  public Generator(Model model, int expertShards, SchedulerLimits limits, TextDecoder decoder) {
    this(model, ExpertPlacement.balanced(model.config(), expertShards), limits, decoder);
  }

  public Generator(Model model, ExpertPlacement placement, SchedulerLimits limits, TextDecoder decoder) {
    this.model = model;
    this.placement = placement;
    List<ExpertShard> shards = new ArrayList<>();
    for (int s = 0; s < placement.shards(); s++) {
      shards.add(ExpertShard.load(model.checkpoint(), model.config(), placement, s, model.hasMtp()));
    }
    this.exchange = new LocalExchange(shards);
    this.limits = limits;
    this.decoder = decoder;
  }

  /** Generates every request; results in request order. */
  public List<GenerationResult> generate(List<GenerationRequest> requests) {
    return generate(requests, r -> {});
  }

  /** Generates every request, reporting each result as it finishes; results in request order. */
  public List<GenerationResult> generate(List<GenerationRequest> requests, Consumer<GenerationResult> onFinish) {
    return generate(requests, onFinish, null);
  }

  /** Receives the logits each sampled token was drawn from. */
  @FunctionalInterface
  public interface LogitsListener {
    /** @param index the index of the generated token these logits choose (0 = after the prompt) */
    void onLogits(String requestId, int index, float[] logits);
  }

  /**
   * Generates every request, reporting each result as it finishes and, if {@code logitsListener}
   * is given, the logits behind every sampled token; results in request order.
   */
  public List<GenerationResult> generate(
      List<GenerationRequest> requests, Consumer<GenerationResult> onFinish, LogitsListener logitsListener) {
    BatchScheduler scheduler = new BatchScheduler(model, placement, limits, decoder);
    scheduler.usePrefixCache(prefixCache);
    Deque<GenerationRequest> waiting = new ArrayDeque<>(requests);
    Map<String, GenerationResult> done = new LinkedHashMap<>();
    while (!waiting.isEmpty() || scheduler.inFlight() > 0) {
      while (!waiting.isEmpty() && scheduler.hasCapacity()) {
        scheduler.admit(waiting.poll(), System.nanoTime());
      }
      Step step = scheduler.nextStep();
      exchange.run(step.pass(), model.kernels());
      for (Sequence s : scheduler.complete(step, System.nanoTime(), logitsListener)) {
        GenerationResult r = GenerationResult.of(s, decoder, System.nanoTime());
        done.put(r.id(), r);
        onFinish.accept(r);
      }
      Step draft = scheduler.nextDraft(); // speculative decoding: the MTP module drafts the next tokens
      if (draft != null) {
        exchange.run(draft.pass(), model.kernels());
        scheduler.complete(draft, System.nanoTime());
      }
    }
    speculation = scheduler.speculationCounts();
    List<GenerationResult> ordered = new ArrayList<>();
    for (GenerationRequest r : requests) {
      ordered.add(done.get(r.id()));
    }
    return ordered;
  }

  /**
   * Starts requests from the prompt prefixes earlier ones left in {@code cache} (kept across
   * calls); null turns it off. Ignored with the MTP module loaded (see {@link
   * BatchScheduler#usePrefixCache}).
   */
  public Generator usePrefixCache(PrefixCache cache) {
    this.prefixCache = cache;
    return this;
  }

  /** The drafts the last {@code generate} call verified and accepted (zero without the MTP module). */
  public BatchScheduler.SpeculationCounts speculationCounts() {
    return speculation;
  }

  public Model model() {
    return model;
  }

  public LocalExchange exchange() {
    return exchange;
  }

  public ExpertPlacement placement() {
    return placement;
  }
}
