package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real DeepSeek-V3 tokenizer bundled in the engine. */
class TokenizerTest {

  private static final String BOS = "<｜begin▁of▁sentence｜>";
  private static final String EOS = "<｜end▁of▁sentence｜>";
  private static final String USER = "<｜User｜>";
  private static final String ASSISTANT = "<｜Assistant｜>";

  /** Ids of DeepSeek-V3's tokenizer.json (added_tokens). */
  private static final int BOS_ID = 0;
  private static final int EOS_ID = 1;
  private static final int USER_ID = 128803;
  private static final int ASSISTANT_ID = 128804;

  @TempDir static Path modelDir;
  private static Tokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    BundledTokenizer.writeTo(modelDir);
    tokenizer = Tokenizer.load(modelDir);
  }

  @Test
  void bundledFilesAreWrittenUncompressed() {
    assertThat(modelDir.resolve("tokenizer.json")).isRegularFile().content().startsWith("{");
    assertThat(modelDir.resolve("tokenizer_config.json"))
        .isRegularFile()
        .content()
        .contains("chat_template");
  }

  @Test
  void encodesKnownIds() {
    assertThat(tokenizer.encode("Hello world")).containsExactly(19923, 2058);
    assertThat(tokenizer.encode(" Hello")).containsExactly(45948);
    assertThat(tokenizer.encode("")).isEmpty();
  }

  @Test
  void mapsSpecialTokensToTheirIds() {
    assertThat(tokenizer.encode(BOS)).containsExactly(BOS_ID);
    assertThat(tokenizer.encode(EOS)).containsExactly(EOS_ID);
    assertThat(tokenizer.encode(USER)).containsExactly(USER_ID);
    assertThat(tokenizer.encode(ASSISTANT)).containsExactly(ASSISTANT_ID);
    assertThat(tokenizer.bosId()).hasValue(BOS_ID);
    assertThat(tokenizer.eosId()).hasValue(EOS_ID);
  }

  @Test
  void vocabSizeCoversVocabularyAndAddedTokens() {
    // 128000 BPE tokens plus added tokens up to id 128814; config.json pads to 129280.
    assertThat(tokenizer.vocabSize()).isEqualTo(128815);
  }

  @Test
  void decodeInvertsEncode() {
    for (String text :
        List.of(
            "Hello world",
            "  leading spaces and\ttabs\nand newlines\n\n",
            "你好，世界 123456 😀",
            "def f(x):\n    return x ** 2  # comment",
            "Ünïcödé façade — “quotes” … ½")) {
      assertThat(tokenizer.decode(tokenizer.encode(text))).as(text).isEqualTo(text);
    }
  }

  @Test
  void decodeCanSkipSpecialTokens() {
    int[] ids = tokenizer.encode(BOS + "Hi" + USER + "x" + EOS);
    assertThat(tokenizer.decode(ids)).isEqualTo(BOS + "Hi" + USER + "x" + EOS);
    // DeepSeek-V3's tokenizer.json marks BOS and EOS special, but not the chat markers.
    assertThat(tokenizer.decode(ids, true)).isEqualTo("Hi" + USER + "x");
  }

  @Test
  void decodeRejectsIdsOutsideTheVocabulary() {
    assertThatThrownBy(() -> tokenizer.decode(new int[] {5, 128815}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("128815")
        .hasMessageContaining("index 1");
  }

  @Test
  void encodeAddsNoSpecialTokens() {
    int[] ids = tokenizer.encode("Hi");
    assertThat(ids).doesNotContain(BOS_ID, EOS_ID);
  }

  @Test
  void encodePromptAddsBosOnce() {
    int[] plain = tokenizer.encode("Hello world");
    assertThat(tokenizer.encodePrompt("Hello world")).containsExactly(BOS_ID, 19923, 2058);
    assertThat(tokenizer.encodePrompt(BOS + "Hello world")).containsExactly(BOS_ID, 19923, 2058);
    assertThat(tokenizer.encodePrompt("")).containsExactly(BOS_ID);
    assertThat(plain).hasSize(2);
  }

  @Test
  void appliesChatTemplateWithBosOnce() {
    List<ChatMessage> chat =
        List.of(
            new ChatMessage("system", "SYS"),
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello"),
            new ChatMessage("user", "Bye"));
    String expected = BOS + "SYS" + USER + "Hi" + ASSISTANT + "Hello" + EOS + USER + "Bye" + ASSISTANT;

    assertThat(tokenizer.renderChatTemplate(chat, true)).isEqualTo(expected);
    int[] ids = tokenizer.applyChatTemplate(chat, true);
    assertThat(ids).startsWith(BOS_ID).endsWith(ASSISTANT_ID);
    assertThat(Arrays.stream(ids).filter(id -> id == BOS_ID).count()).isEqualTo(1);
    assertThat(tokenizer.decode(ids)).isEqualTo(expected);
  }

  @Test
  void encodesConcurrentlyLikeSequentially() throws Exception {
    List<String> texts = List.of("Hello world", "你好，世界", "def f(x): return x", "  spaces  ");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<int[]>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String text = texts.get(i % texts.size());
        results.add(pool.submit(() -> tokenizer.encode(text)));
      }
      for (int i = 0; i < results.size(); i++) {
        assertThat(results.get(i).get()).isEqualTo(tokenizer.encode(texts.get(i % texts.size())));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void failsWhenTokenizerJsonIsMissing(@TempDir Path empty) {
    assertThatThrownBy(() -> Tokenizer.load(empty))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("tokenizer.json")
        .hasMessageContaining(empty.toString());
  }

  @Test
  void failsWhenTokenizerJsonIsNotJson(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": ");
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("tokenizer.json is not valid JSON");
  }

  @Test
  void failsWhenTokenizerJsonHasNoModel(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no \"model\" object");
  }

  @Test
  void failsWhenTheModelTypeIsNotSupported(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("tokenizer.json"),
        "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("model type NoSuchModel is not supported");
  }

  @Test
  void failsWhenConfigIsMalformed(@TempDir Path dir) throws IOException {
    BundledTokenizer.writeTo(dir);
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("add_bos_token")
        .hasMessageContaining("\"yes\"");
  }

  @Test
  void failsWhenBosTokenIsNotInTheVocabulary(@TempDir Path dir) throws IOException {
    BundledTokenizer.writeTo(dir);
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"add_bos_token\": true, \"bos_token\": \"<no-such-token>\"}");
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("bos_token \"<no-such-token>\"");
  }

  @Test
  void worksWithoutTokenizerConfig(@TempDir Path dir) throws IOException {
    BundledTokenizer.writeTo(dir);
    Files.delete(dir.resolve("tokenizer_config.json"));
    Tokenizer bare = Tokenizer.load(dir);
    assertThat(bare.bosId()).isEmpty();
    assertThat(bare.encodePrompt("Hello world")).containsExactly(19923, 2058);
    assertThat(bare.hasChatTemplate()).isFalse();
    assertThatThrownBy(() -> bare.applyChatTemplate(List.of(new ChatMessage("user", "x")), true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no chat template");
  }

  @Test
  void prefersChatTemplateJinjaFile(@TempDir Path dir) throws IOException {
    BundledTokenizer.writeTo(dir);
    Files.writeString(
        dir.resolve("chat_template.jinja"),
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}\n");
    Tokenizer custom = Tokenizer.load(dir);
    assertThat(custom.renderChatTemplate(List.of(new ChatMessage("user", "x")), false))
        .isEqualTo(BOS + "[user]x");
  }
}
