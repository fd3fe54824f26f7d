package io.moeflink.engine.tokenizer;

/**
 * A chat template refused the conversation ({@code raise_exception(...)} in the template) or failed
 * to render it. The input is at fault, not the model: callers turn this into a dead letter.
 */
public final class ChatTemplateException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  ChatTemplateException(String message) {
    super(message);
  }

  ChatTemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
