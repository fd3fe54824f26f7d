package io.moeflink.workbench.bench;

/**
 * Prefill of {@code prompts} fresh prompts of {@code tokensPerPrompt} tokens in one forward pass.
 *
 * @param medianNanos median time of the pass (through the LM head for each prompt's last token)
 * @param flops floating-point operations of the pass ({@link FlopCount})
 */
public record PrefillMeasurement(int prompts, int tokensPerPrompt, int repeats, long medianNanos, double flops) {

  public double flopsPerSecond() {
    return flops * 1e9 / medianNanos;
  }

  public double tokensPerSecond() {
    return (double) prompts * tokensPerPrompt * 1e9 / medianNanos;
  }
}
