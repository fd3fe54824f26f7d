package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The published chat templates of R1, V3.1, V2 and Moonlight (test resources {@code templates/}, see the
 * README there) rendered as Hugging Face renders them, and Moonlight's {@code <|im_...|>} one;
 * the reasoning split of completions.
 */
class FamilyChatTemplateTest {
  private static final String BOS = "<｜begin▁of▁sentence｜>";
  private static final String EOS = "<｜end▁of▁sentence｜>";

  private static ChatTemplate template(String file, String bos, String eos) throws IOException {
    try (InputStream in = FamilyChatTemplateTest.class.getResourceAsStream("/templates/" + file)) {
      return new ChatTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8), bos, eos);
    }
  }

  private static List<ChatMessage> conversation(String earlierAnswer) {
    return List.of(
        new ChatMessage("system", "You are a helpful assistant"),
        new ChatMessage("user", "Hello"),
        new ChatMessage("assistant", earlierAnswer),
        new ChatMessage("user", "How are you?"));
  }

  @Test
  void v31ThinkingOnOpensTheBlockAndOffClosesIt() throws IOException {
    ChatTemplate v31 = template("deepseek-v3.1.jinja", "", EOS);
    // the example llama.cpp prints for this template (bos_token empty there)
    assertThat(v31.render(conversation("Hi there"), true, Thinking.ON)).isEqualTo(
        "You are a helpful assistant<｜User｜>Hello<｜Assistant｜></think>Hi there<｜end▁of▁sentence｜>"
            + "<｜User｜>How are you?<｜Assistant｜><think>");
    ChatTemplate withBos = template("deepseek-v3.1.jinja", BOS, EOS);
    List<ChatMessage> one = List.of(new ChatMessage("system", "SYS"), new ChatMessage("user", "Q"));
    // the model card's prompts: thinking <｜Assistant｜><think>, non-thinking <｜Assistant｜></think>
    assertThat(withBos.render(one, true, Thinking.ON)).isEqualTo(BOS + "SYS<｜User｜>Q<｜Assistant｜><think>");
    assertThat(withBos.render(one, true, Thinking.OFF)).isEqualTo(BOS + "SYS<｜User｜>Q<｜Assistant｜></think>");
    assertThat(withBos.render(one, true, Thinking.TEMPLATE_DEFAULT)).as("the template defaults to off")
        .isEqualTo(BOS + "SYS<｜User｜>Q<｜Assistant｜></think>");
  }

  @Test
  void v31DropsTheReasoningOfEarlierTurns() throws IOException {
    ChatTemplate v31 = template("deepseek-v3.1.jinja", BOS, EOS);
    assertThat(v31.render(conversation("Let me think.</think>Hi there"), true, Thinking.OFF)).isEqualTo(
        BOS + "You are a helpful assistant<｜User｜>Hello<｜Assistant｜></think>Hi there" + EOS
            + "<｜User｜>How are you?<｜Assistant｜></think>");
  }

  @Test
  void r1KeepsOnlyTheTextAfterThinkOfEarlierAnswersAndOpensThinking() throws IOException {
    ChatTemplate r1 = template("deepseek-r1.jinja", BOS, EOS);
    assertThat(r1.render(conversation("<think>\nThe user greets me.\n</think>\n\nHi there"), true)).isEqualTo(
        BOS + "You are a helpful assistant<｜User｜>Hello<｜Assistant｜>\n\nHi there" + EOS
            + "<｜User｜>How are you?<｜Assistant｜><think>\n");
    // a thinking request changes nothing: R1 always reasons
    assertThat(r1.render(List.of(new ChatMessage("user", "1+1?")), true, Thinking.OFF))
        .isEqualTo(BOS + "<｜User｜>1+1?<｜Assistant｜><think>\n");
    assertThat(r1.render(conversation("a</think>b</think>c"), false)).as("everything up to the last </think> goes")
        .endsWith("<｜Assistant｜>c" + EOS + "<｜User｜>How are you?");
    assertThat(r1.render(conversation("only thoughts</think>"), false)).as("Python keeps the empty last part")
        .contains("<｜Assistant｜>" + EOS);
  }

  @Test
  void v2WritesUserAndAssistantLines() throws IOException {
    ChatTemplate v2 = template("deepseek-v2.jinja", BOS, EOS);
    assertThat(v2.render(conversation("Hi there"), true)).isEqualTo(
        BOS + "You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there" + EOS
            + "User: How are you?\n\nAssistant:");
  }

  @Test
  void moonlightFormatsTurnsBetweenImTokensWithADefaultSystemTurn() throws IOException {
    ChatTemplate moonlight = template("moonlight.jinja", "", "");
    assertThat(moonlight.render(List.of(new ChatMessage("user", "Hi")), true)).isEqualTo(
        "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>Hi<|im_end|>"
            + "<|im_assistant|>assistant<|im_middle|>");
    assertThat(moonlight.render(List.of(new ChatMessage("system", "You are Kimi."), new ChatMessage("user", "Hi"),
        new ChatMessage("assistant", "Hello")), false)).isEqualTo(
        "<|im_system|>system<|im_middle|>You are Kimi.<|im_end|><|im_user|>user<|im_middle|>Hi<|im_end|>"
            + "<|im_assistant|>assistant<|im_middle|>Hello<|im_end|>");
  }

  @Test
  void splitsReasoningFromTheAnswer() {
    assertThat(ReasoningSplit.opensReasoning(BOS + "<｜User｜>Q<｜Assistant｜><think>\n")).isTrue();
    assertThat(ReasoningSplit.opensReasoning(BOS + "<｜User｜>Q<｜Assistant｜></think>")).isFalse();
    assertThat(ReasoningSplit.of("The user asks.\n</think>\n\n2", true))
        .isEqualTo(new ReasoningSplit("The user asks.\n", "\n\n2"));
    assertThat(ReasoningSplit.of("still thinking", true)).isEqualTo(new ReasoningSplit("still thinking", ""));
    assertThat(ReasoningSplit.of("plain answer", false)).isEqualTo(new ReasoningSplit(null, "plain answer"));
    assertThat(ReasoningSplit.of("<think>hmm</think>yes", false)).isEqualTo(new ReasoningSplit("hmm", "yes"));
  }
}
