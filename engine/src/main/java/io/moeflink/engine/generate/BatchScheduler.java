package io.moeflink.engine.generate;

import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.SequenceChunk;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Continuous batching: every step packs one decode token of each running sequence that has one,
 * then prefill chunks of the others (in admission order) under a token budget. New sequences join
 * at any step and finished ones leave at once. The same scheduler drives the engine-only path and
 * the Flink generation operator; only the transport of the passes differs.
 *
 * <p>Because every kernel computes each token row independently of its batch, the batching
 * decisions here never change a sequence's tokens.
 */
public final class BatchScheduler {
  private final Model model;
  private final ExpertPlacement placement;
  private final SchedulerLimits limits;
  private final TextDecoder decoder;
  private final Map<String, Sequence> running = new LinkedHashMap<>();

  public BatchScheduler(Model model, ExpertPlacement placement, SchedulerLimits limits, TextDecoder decoder) {
    this.model = model;
    this.placement = placement;
    this.limits = limits;
    this.decoder = decoder;
  }

  /** Whether another sequence may be admitted now. */
  public boolean hasCapacity() {
    return running.size() < limits.maxSequences();
  }

  public int inFlight() {
    return running.size();
  }

  /**
   * Admits a new request.
   *
   * @param nowNanos the time on the caller's clock, kept for the sequence's timings ({@link
   *     Generator} passes {@code System.nanoTime()}; the Flink operator its request clock)
   */
  public Sequence admit(GenerationRequest request, long nowNanos) {
    return restore(request, new int[0], nowNanos);
  }

  /** Re-admits a sequence from a snapshot: its request and the tokens it had generated. */
  public Sequence restore(GenerationRequest request, int[] generated, long nowNanos) {
    if (!hasCapacity()) {
      throw new IllegalStateException("At capacity (" + limits.maxSequences() + " sequences)");
    }
    if (running.containsKey(request.id())) {
      throw new IllegalArgumentException("Request id " + request.id() + " is already in flight");
    }
    Sequence s = new Sequence(model.config(), model.newCache(), request, generated, nowNanos);
    running.put(request.id(), s);
    return s;
  }

  /** The sequences in flight, in admission order (for snapshots). */
  public List<Sequence> sequences() {
    return List.copyOf(running.values());
  }

  /** Builds the next forward pass, or null when nothing is in flight. */
  public Step nextStep() {
    if (running.isEmpty()) {
      return null;
    }
    int budget = limits.tokenBudget();
    List<SequenceChunk> chunks = new ArrayList<>();
    List<Sequence> owners = new ArrayList<>();
    for (Sequence s : running.values()) { // decode tokens first: they keep latency low
      if (s.pendingTokens() == 1 && budget > 0) {
        chunks.add(new SequenceChunk(s.cache(), s.nextTokens(1), true));
        owners.add(s);
        budget--;
      }
    }
    for (Sequence s : running.values()) {
      int pending = s.pendingTokens();
      if (pending > 1 && budget > 0) {
        int take = Math.min(pending, budget);
        chunks.add(new SequenceChunk(s.cache(), s.nextTokens(take), take == pending));
        owners.add(s);
        budget -= take;
      }
    }
    return new Step(new ForwardPass(model, placement, chunks), owners);
  }

  /**
   * Samples from a completed step's logits and returns the sequences that finished (they leave the
   * scheduler).
   */
  public List<Sequence> complete(Step step, long nowNanos) {
    if (!step.pass().isComplete()) {
      throw new IllegalStateException("The step's forward pass is not complete");
    }
    List<Sequence> finished = new ArrayList<>();
    for (int i = 0; i < step.sequences().size(); i++) {
      float[] logits = step.pass().logits(i);
      if (logits == null) {
        continue; // a prefill chunk that does not reach the end yet
      }
      Sequence s = step.sequences().get(i);
      s.accept(logits, decoder, nowNanos);
      if (s.isFinished()) {
        running.remove(s.request().id());
        s.release();
        finished.add(s);
      }
    }
    return finished;
  }

  /** Drops every sequence (after a failure, before a restore). */
  public void clear() {
    running.values().forEach(Sequence::release);
    running.clear();
  }
}
