package io.moeflink.engine.tokenizer;

/**
 * The global functions that Hugging Face adds to the Jinja environment of chat templates. Jinjava
 * calls them reflectively, so they are public static methods.
 */
final class TemplateFunctions {

  private TemplateFunctions() {}

  /** {@code raise_exception(message)}: templates call it to reject a conversation. */
  public static Object raiseException(Object message) {
    throw new ChatTemplateException(String.valueOf(message));
  }
}
