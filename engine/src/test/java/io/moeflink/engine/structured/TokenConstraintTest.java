package io.moeflink.engine.structured;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.engine.sampling.Sampler;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.JsonAutomaton.State;
import io.moeflink.engine.tokenizer.BundledTokenizer;
import io.moeflink.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token-level masks on the DeepSeek-V3 tokenizer that the tiny test models carry. */
class TokenConstraintTest {

  private static final String PERSON = "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":"
      + "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},"
      + "\"age\":{\"type\":\"integer\"},\"pets\":{\"type\":\"array\",\"items\":{\"enum\":[\"cat\",\"dog\"]},"
      + "\"maxItems\":3}},\"required\":[\"name\",\"age\"]}}}";

  private static Tokenizer tokenizer;
  private static StructuredOutput structured;
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void load(@TempDir Path dir) throws IOException {
    BundledTokenizer.writeTo(dir);
    tokenizer = Tokenizer.load(dir);
    structured = new StructuredOutput(tokenizer);
  }

  private static int eos() {
    return tokenizer.eosId().orElseThrow();
  }

  @Test
  void allowsExactlyTheTokensWhoseBytesTheAutomatonAccepts() {
    TokenConstraint c = structured.constraint(PERSON);
    State start = JsonAutomaton.start(c.format().root());
    TokenConstraint.Mask mask = c.mask(c.start());
    int allowed = 0;
    for (int id = 0; id < tokenizer.vocabSize(); id++) {
      byte[] bytes = tokenizer.tokenBytes(id);
      State s = bytes == null ? null : start;
      for (int i = 0; bytes != null && i < bytes.length && s != null; i++) {
        s = JsonAutomaton.step(s, bytes[i] & 0xFF);
      }
      assertThat(mask.allows(id)).as("token %d %s", id, tokenizer.decode(new int[] {id})).isEqualTo(s != null);
      allowed += s != null ? 1 : 0;
    }
    assertThat(mask.count()).isEqualTo(allowed).isGreaterThan(1);
    assertThat(mask.allows(tokenizer.encode("{\"")[0])).isTrue();
    assertThat(mask.allows(tokenizer.encode("[")[0])).isFalse();
    assertThat(mask.allows(eos())).isFalse();
  }

  @Test
  void stopTokensOnlyOnceTheValueIsComplete() {
    TokenConstraint c = structured.constraint("{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"integer\"}}}");
    ConstraintCursor cursor = new ConstraintCursor(c, Set.of(eos()));
    float[] logits = new float[tokenizer.vocabSize()];
    assertThat(cursor.mask(logits, 10)[eos()]).isEqualTo(Float.NEGATIVE_INFINITY);
    cursor.advance(tokenizer.encode("42")[0]);
    assertThat(cursor.mask(logits, 10)[eos()]).isZero();
    assertThat(cursor.complete()).as("more digits may follow").isFalse();
  }

  @Test
  void randomLogitsStillGiveValuesThatParse() throws IOException {
    Random random = new Random(11);
    for (String format : List.of(PERSON, "{\"type\":\"json_object\"}")) {
      TokenConstraint c = structured.constraint(format);
      for (int trial = 0; trial < 20; trial++) {
        String text = generate(c, random, 60);
        JsonNode value = JSON.readTree(text);
        if (format == PERSON) {
          assertThat(value.get("name").isTextual()).as(text).isTrue();
          assertThat(value.get("age").isIntegralNumber()).as(text).isTrue();
        } else {
          assertThat(value.isObject()).as(text).isTrue();
        }
      }
    }
  }

  @Test
  void closesTheValueWhenMaxTokensComes() throws IOException {
    TokenConstraint c = structured.constraint(PERSON);
    Random random = new Random(3);
    int minimum = JsonAutomaton.distance(JsonAutomaton.start(c.format().root())); // {"name":"","age":0}
    for (int maxTokens = minimum; maxTokens < minimum + 8; maxTokens++) {
      String text = generate(c, random, maxTokens);
      assertThat(JSON.readTree(text).get("age").isIntegralNumber()).as(text).isTrue();
    }
  }

  /** Samples up to {@code maxTokens} tokens from random logits under the constraint. */
  private static String generate(TokenConstraint c, Random random, int maxTokens) {
    ConstraintCursor cursor = new ConstraintCursor(c, Set.of(eos()));
    SamplingParams params = new SamplingParams(1.0, 0, 1, random.nextLong(), maxTokens, Set.of(eos()), List.of());
    List<Integer> tokens = new ArrayList<>();
    float[] logits = new float[tokenizer.vocabSize()];
    for (int t = 0; t < maxTokens && !cursor.complete(); t++) {
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) random.nextGaussian() * 3;
      }
      int token = Sampler.sample(cursor.mask(logits, maxTokens - t), params, t);
      if (token == eos()) {
        break;
      }
      cursor.advance(token);
      tokens.add(token);
    }
    return tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
  }
}
