package io.moeflink.engine.generate;

/**
 * Continuous-batching limits of one generation loop.
 *
 * @param maxSequences sequences in flight at once (each holds a KV cache)
 * @param tokenBudget token rows per forward pass: decode tokens first, then prefill chunks
 */
public record SchedulerLimits(int maxSequences, int tokenBudget) implements java.io.Serializable {

  public static final SchedulerLimits DEFAULT = new SchedulerLimits(16, 256);

  public SchedulerLimits {
    if (maxSequences < 1) {
      throw new IllegalArgumentException("maxSequences is " + maxSequences + ", expected at least 1");
    }
    if (tokenBudget < 1) {
      throw new IllegalArgumentException("tokenBudget is " + tokenBudget + ", expected at least 1");
    }
  }
}
