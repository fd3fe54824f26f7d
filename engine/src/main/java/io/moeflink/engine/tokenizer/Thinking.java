package io.moeflink.engine.tokenizer;

/**
 * A request's choice of reasoning mode, passed to the chat template as its {@code thinking}
 * variable (DeepSeek-V3.1: on renders {@code <｜Assistant｜><think>}, off {@code
 * <｜Assistant｜></think>}). Templates without the variable (R1 always thinks, V3 never) ignore it.
 */
public enum Thinking {
  /** The variable is left undefined: the template's own default. */
  TEMPLATE_DEFAULT,
  /** {@code thinking = true}. */
  ON,
  /** {@code thinking = false}. */
  OFF;

  /** {@code true} on, {@code false} off, {@code null} for the template's default. */
  public static Thinking of(Boolean requested) {
    return requested == null ? TEMPLATE_DEFAULT : requested ? ON : OFF;
  }
}
