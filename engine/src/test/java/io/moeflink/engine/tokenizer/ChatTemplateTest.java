package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DeepSeek-V3's chat template. Expected strings follow the template's logic by hand; they agree
 * with Jinja2 3.1 rendering the template with Hugging Face's settings (trim_blocks, lstrip_blocks).
 */
class ChatTemplateTest {

  private static final String BOS = "<｜begin▁of▁sentence｜>";
  private static final String EOS = "<｜end▁of▁sentence｜>";
  private static final String USER = "<｜User｜>";
  private static final String ASSISTANT = "<｜Assistant｜>";

  private static ChatTemplate deepSeek;

  @BeforeAll
  static void readTemplate() throws IOException {
    try (InputStream in =
        ChatTemplateTest.class.getResourceAsStream("deepseek-v3/tokenizer_config.json")) {
      JsonNode config = new ObjectMapper().readTree(in);
      deepSeek =
          new ChatTemplate(
              config.get("chat_template").textValue(),
              config.get("bos_token").get("content").textValue(),
              config.get("eos_token").get("content").textValue());
    }
  }

  @Test
  void rendersSystemUserAssistantUserWithGenerationPrompt() {
    String rendered =
        deepSeek.render(
            List.of(
                new ChatMessage("system", "SYS"),
                new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "Hello"),
                new ChatMessage("user", "Bye")),
            true);
    assertThat(rendered)
        .isEqualTo(BOS + "SYS" + USER + "Hi" + ASSISTANT + "Hello" + EOS + USER + "Bye" + ASSISTANT);
  }

  @Test
  void omitsGenerationPromptWhenNotAsked() {
    assertThat(deepSeek.render(List.of(new ChatMessage("user", "Hi")), false))
        .isEqualTo(BOS + USER + "Hi");
  }

  @Test
  void joinsSystemPromptsWithABlankLine() {
    String rendered =
        deepSeek.render(
            List.of(
                new ChatMessage("system", "A"),
                new ChatMessage("system", "B"),
                new ChatMessage("user", "q")),
            true);
    assertThat(rendered).isEqualTo(BOS + "A\n\nB" + USER + "q" + ASSISTANT);
  }

  @Test
  void rendersAnEmptyConversationAsBosAndCue() {
    assertThat(deepSeek.render(List.of(), true)).isEqualTo(BOS + ASSISTANT);
  }

  @Test
  void keepsTemplateSyntaxInContentAsText() {
    String content = "  spaced \n text {{ 7*7 }} {% if true %}x{% endif %}";
    assertThat(deepSeek.render(List.of(new ChatMessage("user", content)), false))
        .isEqualTo(BOS + USER + content);
  }

  @Test
  void rendersToolCallsAndOutputs() {
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("type", "function");
    call.put("function", Map.of("name", "get", "arguments", "{\"x\": 1}"));
    Map<String, Object> toolTurn = new HashMap<>();
    toolTurn.put("role", "assistant");
    toolTurn.put("content", null);
    toolTurn.put("tool_calls", List.of(call));
    List<Map<String, Object>> messages =
        List.of(
            Map.of("role", "user", "content", "w?"),
            toolTurn,
            Map.of("role", "tool", "content", "sunny"),
            Map.of("role", "tool", "content", "warm"),
            Map.of("role", "assistant", "content", "It is sunny."),
            Map.of("role", "user", "content", "thanks"));
    assertThat(deepSeek.renderValues(messages, true))
        .isEqualTo(
            BOS
                + USER
                + "w?"
                + ASSISTANT
                + "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get\n"
                + "```json\n{\"x\": 1}\n```<｜tool▁call▁end｜>"
                + "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny<｜tool▁output▁end｜>"
                + "\n<｜tool▁output▁begin｜>warm<｜tool▁output▁end｜><｜tool▁outputs▁end｜>"
                + "It is sunny."
                + EOS
                + USER
                + "thanks"
                + ASSISTANT);
  }

  @Test
  void trimsBlocksAndDropsTheTrailingNewlineLikeJinja2() {
    ChatTemplate template =
        new ChatTemplate(
            "{% for m in messages %}\n    {{ m.role }}: {{ m.content }}\n{% endfor %}\n", "", "");
    assertThat(
            template.render(
                List.of(new ChatMessage("user", "a"), new ChatMessage("assistant", "b")), false))
        .isEqualTo("    user: a\n    assistant: b\n");
  }

  @Test
  void reportsRaiseExceptionMessage() {
    ChatTemplate strict =
        new ChatTemplate(
            "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}"
                + "{{ raise_exception('Unknown role ' + m.role) }}{% endif %}{{ m.content }}"
                + "{% endfor %}",
            "",
            "");
    assertThat(strict.render(List.of(new ChatMessage("user", "ok")), false)).isEqualTo("ok");
    assertThatThrownBy(() -> strict.render(List.of(new ChatMessage("robot", "x")), false))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("Unknown role robot");
  }

  @Test
  void rejectsBlankRoles() {
    assertThatThrownBy(() -> new ChatMessage(" ", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("role");
  }
}
