package io.moeflink.workbench.bench;

/**
 * Prefill of {@code prompts} fresh prompts of {@code tokensPerPrompt} tokens in one forward pass.
 *
 * @param medianNanos median time of the pass (through the LM head for each prompt's last token)
 */
public record PrefillMeasurement(int prompts, int tokensPerPrompt, int repeats, long medianNanos) {

  public double tokensPerSecond() {
    return (double) prompts * tokensPerPrompt * 1e9 / medianNanos;
  }
}
