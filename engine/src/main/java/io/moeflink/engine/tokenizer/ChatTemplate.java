package io.moeflink.engine.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code chat_template} of a {@code tokenizer_config.json}, rendered with Jinjava the way
 * Hugging Face's {@code apply_chat_template} renders it with Jinja2.
 *
 * <p>What makes the two agree:
 *
 * <ul>
 *   <li>{@code trim_blocks} and {@code lstrip_blocks} on, and one trailing newline of the template
 *       dropped (Jinja2's {@code keep_trailing_newline=False});
 *   <li>the variables {@code messages} (maps with {@code role} and {@code content}), {@code
 *       add_generation_prompt}, {@code bos_token} and {@code eos_token}, and the function {@code
 *       raise_exception};
 *   <li>Python-like behaviour where Jinjava has a switch for it: iterating a map yields its keys,
 *       lists and strings print as Python prints them, {@code {{- x -}}} trims around expressions.
 *       Jinjava's "natural operator precedence" switch is left off: it mis-parses DeepSeek-V3's
 *       template ({@code a == b and c is none}).
 *   <li>nested interpretation off: message content that contains template syntax stays text, as in
 *       Jinja2 (Jinjava would otherwise render {@code {{ ... }}} found in a user's message).
 * </ul>
 *
 * {@code namespace(...)} and {@code {% set ns.x = ... %}}, which DeepSeek-V3's template relies
 * on, work in Jinjava 2.7.4 as they do in Jinja2. Loop controls ({@code break}/{@code continue}) and
 * {@code strftime_now} are not provided.
 *
 * <p>Thread-safe: rendering shares no mutable state.
 */
public final class ChatTemplate {

  /** Jinja2's default for the environments Hugging Face builds. */
  private static final LegacyOverrides PYTHON_LIKE =
      LegacyOverrides.newBuilder()
          .withEvaluateMapKeys(true)
          .withIterateOverMapKeys(true)
          .withUsePyishObjectMapper(true)
          .withParseWhitespaceControlStrictly(true)
          .withUseTrimmingForNotesAndExpressions(true)
          .build();

  /** Python's {@code str.split} first, then Jinjava's own (read-only) resolution. */
  private static final jinjava.javax.el.ELResolver RESOLVERS = resolvers();

  private static jinjava.javax.el.ELResolver resolvers() {
    jinjava.javax.el.CompositeELResolver all = new jinjava.javax.el.CompositeELResolver();
    all.add(new PythonStringMethods());
    all.add(com.hubspot.jinjava.el.JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    return all;
  }

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  /**
   * @param source the Jinja source ({@code chat_template})
   * @param bosToken the text of the BOS token, {@code ""} if the tokenizer has none
   * @param eosToken the text of the EOS token, {@code ""} if the tokenizer has none
   */
  public ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = withoutTrailingNewline(Objects.requireNonNull(source, "source"));
    this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
    this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
    this.jinjava =
        new Jinjava(
            JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(PYTHON_LIKE)
                .withElResolver(RESOLVERS)
                .build());
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", Object.class));
  }

  /**
   * Renders a conversation to the prompt text. The text starts with the BOS token's text where the
   * template puts {@code {{ bos_token }}}, so it must be tokenized without adding special tokens.
   *
   * @param addGenerationPrompt whether to end with the cue for the assistant's turn
   * @throws ChatTemplateException if the template rejects the conversation or fails to render
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, Thinking.TEMPLATE_DEFAULT);
  }

  /** As {@link #render(List, boolean)}, with the template's {@code thinking} variable set as asked. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Thinking thinking) {
    List<Map<String, Object>> values = new ArrayList<>(messages.size());
    for (ChatMessage message : messages) {
      values.add(message.toTemplateValue());
    }
    return renderValues(values, addGenerationPrompt, thinking);
  }

  /**
   * Renders messages given as maps, for turns that carry more than role and content (an assistant
   * turn with {@code tool_calls} and {@code content: null}).
   */
  String renderValues(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
    return renderValues(messages, addGenerationPrompt, Thinking.TEMPLATE_DEFAULT);
  }

  private String renderValues(
      List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Thinking thinking) {
    Map<String, Object> context = new HashMap<>();
    if (thinking != Thinking.TEMPLATE_DEFAULT) {
      context.put("thinking", thinking == Thinking.ON);
    }
    context.put("messages", messages);
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result;
    try {
      result = jinjava.renderForResult(source, context);
    } finally {
      forgetIntrospectedClasses();
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw failure(error);
      }
    }
    return result.getOutput();
  }

  /**
   * Jinjava looks up template tests and objects as Java beans ({@code x is defined} introspects
   * its {@code IsDefinedExpTest}), and {@code java.beans} caches what it found per thread group,
   * strongly: on a Flink TaskManager the task threads' group outlives every job, so the cache would
   * keep the job's class loader, and with it every class of the job, alive after the job ends.
   * Clearing the cache of the rendering thread's group after each rendering costs a few
   * microseconds of re-introspection on the next one.
   */
  private static void forgetIntrospectedClasses() {
    java.beans.Introspector.flushCaches();
  }

  /** The template's own message where it called {@code raise_exception}, else Jinjava's. */
  private static ChatTemplateException failure(TemplateError error) {
    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
      if (t instanceof ChatTemplateException raised) {
        return new ChatTemplateException(
            "Chat template rejected the conversation: " + raised.getMessage(), raised);
      }
    }
    return new ChatTemplateException(
        "Chat template failed at line "
            + error.getLineno()
            + ": "
            + error.getMessage()
            + (error.getFieldName() == null ? "" : " (in " + error.getFieldName() + ")"),
        error.getException());
  }

  private static String withoutTrailingNewline(String s) {
    if (s.endsWith("\r\n")) {
      return s.substring(0, s.length() - 2);
    }
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }
}
