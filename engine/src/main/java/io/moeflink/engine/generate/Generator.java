package io.moeflink.engine.generate;

import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.model.Model;
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

  public Generator(Model model, int expertShards, SchedulerLimits limits, TextDecoder decoder) {
    this(model, ExpertPlacement.balanced(model.config(), expertShards), limits, decoder);
  }

  public Generator(Model model, ExpertPlacement placement, SchedulerLimits limits, TextDecoder decoder) {
    this.model = model;
    this.placement = placement;
    List<ExpertShard> shards = new ArrayList<>();
    for (int s = 0; s < placement.shards(); s++) {
      shards.add(ExpertShard.load(model.checkpoint(), model.config(), placement, s));
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
    Deque<GenerationRequest> waiting = new ArrayDeque<>(requests);
    Map<String, GenerationResult> done = new LinkedHashMap<>();
    while (!waiting.isEmpty() || scheduler.inFlight() > 0) {
      while (!waiting.isEmpty() && scheduler.hasCapacity()) {
        scheduler.admit(waiting.poll(), System.nanoTime());
      }
      Step step = scheduler.nextStep();
      exchange.run(step.pass(), model.kernels());
      if (logitsListener != null) {
        for (int i = 0; i < step.sequences().size(); i++) {
          if (step.pass().logits(i) != null) {
            Sequence s = step.sequences().get(i);
            logitsListener.onLogits(s.request().id(), s.generatedCount(), step.pass().logits(i));
          }
        }
      }
      for (Sequence s : scheduler.complete(step, System.nanoTime())) {
        GenerationResult r = GenerationResult.of(s, decoder, System.nanoTime());
        done.put(r.id(), r);
        onFinish.accept(r);
      }
    }
    List<GenerationResult> ordered = new ArrayList<>();
    for (GenerationRequest r : requests) {
      ordered.add(done.get(r.id()));
    }
    return ordered;
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
