package io.moeflink.engine.generate;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.model.LatentKvCache;
import io.moeflink.engine.sampling.FinishReason;
import io.moeflink.engine.sampling.Sampler;
import io.moeflink.engine.sampling.StopCondition;
import io.moeflink.engine.structured.ConstraintCursor;
import java.util.Arrays;
import java.util.Optional;

/**
 * One sequence being generated: its request, the tokens generated so far and its latent cache.
 *
 * <p>The tokens to feed are always {@code prompt + generated}; the cache holds the first {@code
 * cache.length()} of them. A fresh sequence and one restored from a snapshot (request + generated
 * tokens, no cache) are the same thing: both prefill what the cache lacks, then sample. Since the
 * draw for generated token {@code t} depends only on (seed, t), the continuation is identical.
 */
public final class Sequence {
  private final GenerationRequest request;
  private final LatentKvCache cache;
  private final StopCondition stop;
  /** Where the generated tokens stand in the request's structured output; null for free text. */
  private final ConstraintCursor constraint;
  private int[] generated;
  private int generatedCount;
  private final long admittedNanos;
  private long firstTokenNanos;
  private Finish finish;
  /** The MTP module's guess of the next token to sample, or -1 (speculative decoding only). */
  private int draft = -1;
  /** Positions whose MTP module rows the cache holds (speculative decoding only). */
  private int draftedLength;

  /** How and when a sequence finished. */
  public record Finish(FinishReason reason, int textLength) {}

  Sequence(ModelConfig config, LatentKvCache cache, GenerationRequest request, int[] alreadyGenerated, long admittedNanos) {
    this.request = request;
    this.cache = cache;
    this.stop = new StopCondition(request.sampling());
    this.generated = Arrays.copyOf(alreadyGenerated, Math.max(16, alreadyGenerated.length + 1));
    this.generatedCount = alreadyGenerated.length;
    this.admittedNanos = admittedNanos;
    this.constraint = request.constraint() == null ? null
        : new ConstraintCursor(request.constraint(), request.sampling().stopTokenIds());
    if (constraint != null) {
      for (int token : alreadyGenerated) { // a restored sequence stands where it stood
        constraint.advance(token);
      }
    }
    int total = request.promptTokens().length + request.sampling().maxTokens();
    if (total > config.exactContext()) {
      throw new IllegalArgumentException(
          "Request " + request.id() + ": prompt (" + request.promptTokens().length + " tokens) + max tokens ("
              + request.sampling().maxTokens() + ") exceeds " + config.exactContextLimit());
    }
  }

  public GenerationRequest request() {
    return request;
  }

  LatentKvCache cache() {
    return cache;
  }

  /** Tokens still to feed before the next token can be sampled. */
  int pendingTokens() {
    return request.promptTokens().length + generatedCount - cache.length();
  }

  /** The next {@code count} tokens to feed. */
  int[] nextTokens(int count) {
    int[] out = new int[count];
    int prompt = request.promptTokens().length;
    for (int i = 0; i < count; i++) {
      int index = cache.length() + i;
      out[i] = index < prompt ? request.promptTokens()[index] : generated[index - prompt];
    }
    return out;
  }

  /** The token at {@code position} of {@code prompt + generated}. */
  int tokenAt(int position) {
    int prompt = request.promptTokens().length;
    return position < prompt ? request.promptTokens()[position] : generated[position - prompt];
  }

  /** Tokens that may still be generated before max tokens. */
  int remainingTokens() {
    return request.sampling().maxTokens() - generatedCount;
  }

  int draft() {
    return draft;
  }

  void draft(int token) {
    draft = token;
  }

  int draftedLength() {
    return draftedLength;
  }

  void draftedLength(int positions) {
    draftedLength = positions;
  }

  /**
   * Samples the next token from the last position's logits (masked by the structured output, if
   * any) and checks the stop condition; returns the token, or -1 if the constraint left no token
   * (the sequence then finishes by length).
   */
  int accept(float[] logits, TextDecoder decoder, long nowNanos) {
    float[] scores = constraint == null ? logits : constraint.mask(logits, remainingTokens());
    if (scores == null) {
      finish = new Finish(FinishReason.LENGTH, Integer.MAX_VALUE);
      return -1;
    }
    int token = Sampler.sample(scores, request.sampling(), generatedCount);
    if (generatedCount == generated.length) {
      generated = Arrays.copyOf(generated, generated.length * 2);
    }
    generated[generatedCount++] = token;
    if (firstTokenNanos == 0) {
      firstTokenNanos = nowNanos;
    }
    String text = request.sampling().stopStrings().isEmpty() || decoder == null ? "" : decoder.decode(generated());
    Optional<StopCondition.Finish> f = stop.check(token, generatedCount, text);
    if (constraint != null) {
      constraint.advance(token);
      if (constraint.complete() && (f.isEmpty() || f.get().reason() == FinishReason.LENGTH)) {
        f = Optional.of(new StopCondition.Finish(FinishReason.STOP, text.length())); // the value is closed
      }
    }
    f.ifPresent(x -> finish = new Finish(x.reason(), x.textLength()));
    return token;
  }

  /** The draft token from the MTP module's logits, masked as the token itself will be; -1 if none. */
  int draftFrom(float[] logits) {
    float[] scores = constraint == null ? logits : constraint.mask(logits, remainingTokens());
    return scores == null ? -1 : Sampler.sample(scores, request.sampling(), generatedCount);
  }

  /** The tokens generated so far. */
  public int[] generated() {
    return Arrays.copyOf(generated, generatedCount);
  }

  /** Tokens generated so far, without copying them. */
  public int generatedCount() {
    return generatedCount;
  }

  /**
   * The completion's text: the decoded tokens, cut before the stop string that finished the
   * sequence; null without a decoder.
   */
  public String completionText(TextDecoder decoder) {
    if (decoder == null) {
      return null;
    }
    String full = decoder.decode(generated());
    // with stop strings the finish says where to cut; without, the whole text stands
    return request.sampling().stopStrings().isEmpty() || finish == null
        ? full
        : full.substring(0, Math.min(full.length(), finish.textLength()));
  }

  /** Frees the cache (device memory on a GPU); called when the sequence leaves its scheduler. */
  void release() {
    cache.release();
  }

  public boolean isFinished() {
    return finish != null;
  }

  public Finish finish() {
    return finish;
  }

  public long admittedNanos() {
    return admittedNanos;
  }

  /** When the first token of this attempt was sampled; 0 before. */
  public long firstTokenNanos() {
    return firstTokenNanos;
  }
}
