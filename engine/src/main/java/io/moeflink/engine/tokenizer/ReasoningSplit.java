package io.moeflink.engine.tokenizer;

/**
 * A completion of a reasoning model cut into its reasoning and its answer, as OpenAI-compatible
 * servers return them ({@code reasoning_content} and {@code content}). The reasoning is the text
 * before the first {@code </think>}, the answer the text after it, both verbatim. When the prompt
 * opened the reasoning block (R1's and V3.1's thinking prompts end in {@code <think>}) a
 * completion without {@code </think>} is all reasoning (it stopped while thinking); otherwise it
 * is all answer. A {@code <think>} the model writes itself at the start is dropped.
 *
 * @param reasoning the reasoning text, or {@code null} when there is none
 * @param text the answer
 */
public record ReasoningSplit(String reasoning, String text) {
  static final String OPEN = "<think>";
  static final String CLOSE = "</think>";

  /** Whether a rendered prompt leaves the model inside a reasoning block. */
  public static boolean opensReasoning(String renderedPrompt) {
    return renderedPrompt.stripTrailing().endsWith(OPEN);
  }

  /** Splits {@code generated}; {@code promptOpensReasoning} from {@link #opensReasoning}. */
  public static ReasoningSplit of(String generated, boolean promptOpensReasoning) {
    String g = generated;
    boolean selfOpened = g.stripLeading().startsWith(OPEN);
    if (selfOpened) {
      g = g.stripLeading().substring(OPEN.length());
    }
    int close = g.indexOf(CLOSE);
    if (close >= 0) {
      return new ReasoningSplit(g.substring(0, close), g.substring(close + CLOSE.length()));
    }
    return promptOpensReasoning || selfOpened ? new ReasoningSplit(g, "") : new ReasoningSplit(null, generated);
  }
}
