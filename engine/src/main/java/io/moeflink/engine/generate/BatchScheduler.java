package io.moeflink.engine.generate;

import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.model.DraftChunk;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.PrefixCache;
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
 *
 * <p>With the model's MTP module loaded the scheduler decodes speculatively: each main step is
 * followed by a {@linkplain #nextDraft() draft step} in which the module drafts every sequence's
 * next token; the next main step feeds the decode token and the draft together, and the draft is
 * kept only if it is exactly the token the main model samples at its position (the draw for token
 * {@code t} depends only on the seed and {@code t}), so the tokens are those of plain decoding, bit
 * for bit. A rejected draft's cache position is dropped.
 *
 * <p>With a {@linkplain #usePrefixCache prefix cache} a new sequence starts from the cached blocks
 * its prompt begins with and prefills only the rest; once its prompt is prefilled its full blocks
 * go into the cache. Chunked prefill is bitwise whole prefill, so a hit changes no logit.
 */
public final class BatchScheduler {
  private final Model model;
  private final ExpertPlacement placement;
  private final SchedulerLimits limits;
  private final TextDecoder decoder;
  private final Map<String, Sequence> running = new LinkedHashMap<>();
  private final boolean speculative;
  /** Draft rows the last main step made known, fed by the next draft step. */
  private final List<DraftChunk> drafts = new ArrayList<>();
  private final List<Sequence> drafters = new ArrayList<>();
  private long draftsProposed;
  private long draftsAccepted;
  /** Cached prompt prefixes, or null (off, and always off with speculative decoding). */
  private PrefixCache prefixCache;

  public BatchScheduler(Model model, ExpertPlacement placement, SchedulerLimits limits, TextDecoder decoder) {
    this.model = model;
    this.placement = placement;
    this.limits = limits;
    this.decoder = decoder;
    this.speculative = model.hasMtp();
  }

  /**
   * Starts new sequences from {@code cache}'s prefixes and fills it with theirs; null turns it
   * off. Ignored when decoding speculatively: the MTP module's rows lag the main model's by a
   * step, so the cache would hold blocks without them.
   */
  public void usePrefixCache(PrefixCache cache) {
    this.prefixCache = speculative ? null : cache;
  }

  /** The prefix cache in use, or null. */
  public PrefixCache prefixCache() {
    return prefixCache;
  }

  /** Whether the scheduler decodes speculatively (the model's MTP module is loaded). */
  public boolean speculative() {
    return speculative;
  }

  /** Drafts verified so far, and how many of them the main model accepted. */
  public record SpeculationCounts(long proposed, long accepted) {}

  public SpeculationCounts speculationCounts() {
    return new SpeculationCounts(draftsProposed, draftsAccepted);
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
    if (prefixCache != null) {
      prefixCache.attach(request.promptTokens(), s.cache());
    }
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
        boolean verify = s.draft() >= 0 && s.remainingTokens() >= 2 && budget >= 2;
        int[] tokens = verify ? new int[] {s.nextTokens(1)[0], s.draft()} : s.nextTokens(1);
        chunks.add(new SequenceChunk(s.cache(), tokens, tokens.length));
        owners.add(s);
        budget -= tokens.length;
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
    return new Step(newPass(chunks), owners);
  }

  /** A main pass; short of memory for the caches, the prefix cache goes first, then it retries once. */
  private ForwardPass newPass(List<SequenceChunk> chunks) {
    try {
      return new ForwardPass(model, placement, chunks);
    } catch (OutOfMemoryError e) {
      if (prefixCache == null || prefixCache.stats().blocks() == 0) {
        throw e;
      }
      prefixCache.clear();
      return new ForwardPass(model, placement, chunks);
    }
  }

  /**
   * Samples from a completed step's logits and returns the sequences that finished (they leave the
   * scheduler). A draft step only records its drafts and returns none.
   */
  public List<Sequence> complete(Step step, long nowNanos) {
    return complete(step, nowNanos, null);
  }

  /** As {@link #complete(Step, long)}, telling {@code logits} what each sampled token was drawn from. */
  public List<Sequence> complete(Step step, long nowNanos, Generator.LogitsListener logits) {
    if (!step.pass().isComplete()) {
      throw new IllegalStateException("The step's forward pass is not complete");
    }
    if (step.pass().isDraft()) {
      completeDraft(step);
      return List.of();
    }
    List<Sequence> finished = new ArrayList<>();
    for (int i = 0; i < step.sequences().size(); i++) {
      Sequence s = step.sequences().get(i);
      if (step.pass().logits(i) != null) {
        if (prefixCache != null && s.generatedCount() == 0) { // the prompt is prefilled
          prefixCache.offer(s.request().promptTokens(), s.request().promptTokens().length, s.cache());
        }
        sample(step.pass(), i, s, nowNanos, logits);
      }
      if (s.isFinished()) {
        running.remove(s.request().id());
        s.release();
        finished.add(s);
      } else if (speculative) {
        addDraftRows(step.pass(), i, s);
      }
    }
    return finished;
  }

  /** Samples chunk {@code i}'s token, and its draft's successor if the draft was the token sampled. */
  private void sample(ForwardPass pass, int i, Sequence s, long nowNanos, Generator.LogitsListener listener) {
    int verified = pass.chunks().get(i).logitRows() == 2 ? s.draft() : -1;
    s.draft(-1);
    float[] first = verified >= 0 ? pass.logits(i, 0) : pass.logits(i);
    report(listener, s, first);
    int token = s.accept(first, decoder, nowNanos);
    if (verified < 0) {
      return;
    }
    draftsProposed++;
    if (token == verified && !s.isFinished()) {
      draftsAccepted++;
      float[] second = pass.logits(i, 1);
      report(listener, s, second);
      s.accept(second, decoder, nowNanos);
    } else {
      s.cache().truncate(s.cache().length() - 1); // the draft's position
    }
  }

  private static void report(Generator.LogitsListener listener, Sequence s, float[] logits) {
    if (listener != null) {
      listener.onLogits(s.request().id(), s.generatedCount(), logits);
    }
  }

  /**
   * The MTP module's rows this step made known: every position it fed (and kept) whose next token
   * is now known, each with its normed hidden state.
   */
  private void addDraftRows(ForwardPass pass, int i, Sequence s) {
    int from = s.draftedLength();
    int to = s.cache().length();
    int d = model.config().hiddenSize();
    int[] next = new int[to - from];
    for (int p = from; p < to; p++) {
      next[p - from] = s.tokenAt(p + 1);
    }
    float[] hidden = java.util.Arrays.copyOf(pass.hidden(i), next.length * d);
    boolean wantsDraft = s.pendingTokens() == 1 && s.remainingTokens() >= 2;
    drafts.add(new DraftChunk(s.cache(), from, next, hidden, wantsDraft));
    drafters.add(s);
  }

  /**
   * The draft step that follows a completed main step, or null when there is nothing to draft
   * (not speculative, or every sequence finished).
   */
  public Step nextDraft() {
    if (drafts.isEmpty()) {
      return null;
    }
    Step step = new Step(ForwardPass.draft(model, placement, drafts), List.copyOf(drafters));
    drafts.clear();
    drafters.clear();
    return step;
  }

  private void completeDraft(Step step) {
    for (int i = 0; i < step.sequences().size(); i++) {
      Sequence s = step.sequences().get(i);
      var chunk = step.pass().chunks().get(i);
      s.draftedLength(s.draftedLength() + chunk.tokens().length);
      float[] logits = step.pass().logits(i);
      if (logits != null && !s.isFinished()) {
        s.draft(s.draftFrom(logits));
      }
    }
  }

  /** Drops every sequence (after a failure, before a restore). */
  public void clear() {
    running.values().forEach(Sequence::release);
    running.clear();
    drafts.clear();
    drafters.clear();
  }
}
