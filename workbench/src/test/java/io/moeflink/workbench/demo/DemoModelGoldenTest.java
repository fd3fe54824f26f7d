package io.moeflink.workbench.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.generate.LocalExchange;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.DraftChunk;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.model.LatentKvCache;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.model.SequenceChunk;
import io.moeflink.engine.moe.ExpertPlacement;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The committed demo model ({@code models/demo}) against the float64 forward pass of the script
 * that trained it ({@code tools/demo-model/train.py}, on the stored BF16 weights): the main
 * model's logits at every position and the MTP module's draft logits at every position, within
 * 1e-4; and the engine's tokenizer encodes the prompts into the script's token ids.
 */
class DemoModelGoldenTest {
  static final Path DEMO = Path.of("../models/demo");
  private static final double LOGIT_TOLERANCE = 1e-4;

  private static JsonNode golden() throws IOException {
    return new ObjectMapper().readTree(DEMO.resolve("golden.json").toFile());
  }

  @ParameterizedTest
  @EnumSource(value = BackendKind.class, names = {"SCALAR", "VECTOR"})
  void mainAndMtpLogitsMatchTheTrainingScript(BackendKind backend) throws IOException {
    JsonNode golden = golden();
    int stride = golden.get("vocab_stride").asInt();
    try (KernelBackend k = Backends.cpu(backend, 2); Model m = Model.load(DEMO, k, true)) {
      ExpertPlacement placement = ExpertPlacement.balanced(m.config(), 2);
      LocalExchange exchange = new LocalExchange(List.of(
          ExpertShard.load(m.checkpoint(), m.config(), placement, 0, true),
          ExpertShard.load(m.checkpoint(), m.config(), placement, 1, true)));
      int d = m.config().hiddenSize();
      double mainWorst = 0;
      double mtpWorst = 0;
      for (JsonNode prompt : golden.get("prompts")) {
        int[] tokens = ints(prompt.get("tokens"));
        int n = tokens.length;
        String what = backend + ", prompt \"" + prompt.get("user").asText() + "\"";
        LatentKvCache cache = m.newCache();
        ForwardPass main = new ForwardPass(m, placement, List.of(new SequenceChunk(cache, tokens, n)));
        exchange.run(main, k);
        for (int p = 0; p < n; p++) {
          mainWorst = Math.max(mainWorst,
              assertClose(sampled(main.logits(0, p), stride), prompt.get("main_logits").get(p), what + ", main logits at " + p));
        }
        mainWorst = Math.max(mainWorst,
            assertClose(main.logits(0, n - 1), prompt.get("main_last_logits"), what + ", all main logits at the last position"));
        float[] hidden = main.hidden(0);
        float[] draft = null;
        for (int p = 0; p + 1 < n; p++) {
          ForwardPass pass = ForwardPass.draft(m, placement, List.of(new DraftChunk(
              cache, p, new int[] {tokens[p + 1]}, Arrays.copyOfRange(hidden, p * d, (p + 1) * d), true)));
          exchange.run(pass, k);
          draft = pass.logits(0);
          mtpWorst = Math.max(mtpWorst,
              assertClose(sampled(draft, stride), prompt.get("mtp_logits").get(p), what + ", MTP logits at " + p));
        }
        mtpWorst = Math.max(mtpWorst,
            assertClose(draft, prompt.get("mtp_last_logits"), what + ", all MTP logits at the last position"));
        cache.release();
      }
      System.out.printf("demo model, %s: largest logit difference to the training script %.2e (main), %.2e (MTP)%n",
          backend, mainWorst, mtpWorst);
    }
  }

  @Test
  void theTokenizerEncodesThePromptsAsTheTrainingScriptDid() throws IOException {
    Tokenizer tokenizer = Tokenizer.load(DEMO);
    for (JsonNode prompt : golden().get("prompts")) {
      int[] chat = tokenizer.applyChatTemplate(List.of(new ChatMessage("user", prompt.get("user").asText())), true);
      int[] answer = tokenizer.encode(prompt.get("answer").asText());
      int[] both = Arrays.copyOf(chat, chat.length + answer.length);
      System.arraycopy(answer, 0, both, chat.length, answer.length);
      assertThat(both).as(prompt.get("user").asText()).containsExactly(ints(prompt.get("tokens")));
      assertThat(tokenizer.decode(answer)).isEqualTo(prompt.get("answer").asText());
    }
  }

  private static float[] sampled(float[] logits, int stride) {
    float[] out = new float[(logits.length + stride - 1) / stride];
    for (int i = 0; i < out.length; i++) {
      out[i] = logits[i * stride];
    }
    return out;
  }

  /** Returns the largest absolute difference. */
  private static double assertClose(float[] actual, JsonNode expected, String what) {
    assertThat(actual).as(what).hasSize(expected.size());
    double worst = 0;
    int at = -1;
    for (int i = 0; i < actual.length; i++) {
      double diff = Math.abs(actual[i] - expected.get(i).asDouble());
      if (diff > worst) {
        worst = diff;
        at = i;
      }
    }
    assertThat(worst).as("%s: largest difference at %d", what, at).isLessThanOrEqualTo(LOGIT_TOLERANCE);
    return worst;
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
