package io.moeflink.operators.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Thinking;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.operators.GenerationTask;
import io.moeflink.schemas.InferenceRequest;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request's {@code thinking} reaches the chat template: DeepSeek-V3.1's prompt opens or closes the block. */
class AdmissionThinkingTest {
  @TempDir Path tmp;

  @Test
  void thinkingOnAndOffRenderV31sTwoPrompts() throws Exception {
    Path dir = tmp.resolve("v31");
    ModelGenerator.builder(ModelPreset.TINY.shape()).seed(1).build().writeTo(dir);
    Path config = dir.resolve("tokenizer_config.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizerConfig = (ObjectNode) json.readTree(config.toFile());
    try (InputStream in = getClass().getResourceAsStream("/templates/deepseek-v3.1.jinja")) {
      tokenizerConfig.put("chat_template", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    Files.writeString(config, json.writeValueAsString(tokenizerConfig));
    Tokenizer tokenizer = Tokenizer.load(dir);
    List<ChatMessage> chat = List.of(new ChatMessage("user", "Hi"));

    try (OneInputStreamOperatorTestHarness<InferenceRequest, GenerationTask> h = new OneInputStreamOperatorTestHarness<>(
        new ProcessOperator<>(new Admission(dir.toString(), new AdmissionPolicy(null, 0, 4))))) {
      h.open();
      for (Boolean thinking : new Boolean[] {true, false, null}) {
        h.processElement(new StreamRecord<>(InferenceRequest.newBuilder().setId("r-" + thinking)
            .setMessages(List.of(io.moeflink.schemas.ChatMessage.newBuilder().setRole("user").setContent("Hi").build()))
            .setThinking(thinking).build()));
      }
      List<GenerationTask> tasks = h.extractOutputValues();
      assertThat(tasks).hasSize(3);
      assertThat(tokenizer.renderChatTemplate(chat, true, Thinking.ON)).endsWith("<｜Assistant｜><think>");
      assertThat(tasks.get(0).promptTokens()).containsExactly(tokenizer.applyChatTemplate(chat, true, Thinking.ON));
      assertThat(tasks.get(1).promptTokens()).containsExactly(tokenizer.applyChatTemplate(chat, true, Thinking.OFF));
      assertThat(tasks.get(2).promptTokens()).as("null keeps the template's default, off")
          .containsExactly(tasks.get(1).promptTokens());
      assertThat(tasks.get(0).promptTokens()).isNotEqualTo(tasks.get(1).promptTokens());
    }
  }
}
