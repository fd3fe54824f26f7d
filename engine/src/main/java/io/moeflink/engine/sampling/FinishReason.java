package io.moeflink.engine.sampling;

/** Why a sequence stopped generating. */
public enum FinishReason {
  /** A stop token or a stop string was generated. */
  STOP,
  /** The sequence reached {@link SamplingParams#maxTokens()} generated tokens. */
  LENGTH
}
