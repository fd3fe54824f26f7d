package io.moeflink.engine.config;

/** {@code scoring_func}: how the router turns its logits into expert affinities. */
public enum RouterScoring {
  /** DeepSeek-V3: {@code sigmoid(logit)} per expert. */
  SIGMOID,
  /** DeepSeek-V2: {@code softmax} over all routed experts, in float32. */
  SOFTMAX
}
