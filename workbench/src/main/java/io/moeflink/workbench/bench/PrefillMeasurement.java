package io.moeflink.workbench.bench;

/**
 * Prefill of {@code prompts} fresh prompts of {@code tokensPerPrompt} tokens in one forward pass.
 *
 * @param medianNanos median time of the pass (through the LM head for each prompt's last token)
 * @param flops floating-point operations of the pass ({@link FlopCount})
 * @param peakFlopsPerSecond the FMA probe's median over the passes it ran after each timed pass:
 *     the peak this configuration is judged against, under the same machine load
 */
public record PrefillMeasurement(
    int prompts, int tokensPerPrompt, int repeats, long medianNanos, double flops, double peakFlopsPerSecond) {

  public double flopsPerSecond() {
    return flops * 1e9 / medianNanos;
  }

  public double tokensPerSecond() {
    return (double) prompts * tokensPerPrompt * 1e9 / medianNanos;
  }

  /** {@link #flopsPerSecond()} over {@link #peakFlopsPerSecond()}. */
  public double fmaFraction() {
    return flopsPerSecond() / peakFlopsPerSecond;
  }
}
