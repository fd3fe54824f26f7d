package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tiktoken.model} against jtokkit, an independent Java implementation of tiktoken (test
 * scope), on OpenAI's cl100k_base vocabulary that jtokkit ships in the same file format as Kimi's
 * {@code tiktoken.model}. Kimi's own vocabulary is not available offline, so its split pattern is
 * checked with cl100k's ranks, and its special-token layout on a directory built like Kimi's.
 */
class TiktokenFileTest {

  /** cl100k_base's split pattern, as tiktoken defines it. */
  private static final String CL100K_PATTERN =
      "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

  @TempDir static Path dir;
  private static Path model;
  private static List<String> sample;
  private static EncodingRegistry registry;

  @BeforeAll
  static void copyVocabulary() throws IOException {
    model = dir.resolve(TiktokenFile.FILE_NAME);
    try (InputStream in = Encoding.class.getResourceAsStream("/com/knuddels/jtokkit/cl100k_base.tiktoken")) {
      Files.copy(in, model);
    }
    sample = MultilingualSample.generate(99L, 100_000, null, List.of("<|im_end|>", "[BOS]"), true);
    registry = Encodings.newLazyEncodingRegistry();
  }

  @Test
  void cl100kGivesTheIdsOfJtokkit() throws IOException {
    BpeTokenizer ours = TiktokenFile.read(model, SplitPattern.compile(CL100K_PATTERN), List.of());
    Encoding theirs = registry.getEncoding(EncodingType.CL100K_BASE); // a hand-written splitter, no regex
    assertSameIds(ours, theirs);
  }

  @Test
  void kimiPatternGivesTheIdsOfJtokkitWithTheSamePattern() throws IOException {
    BpeTokenizer ours = TiktokenFile.read(model, SplitPattern.compile(TiktokenFile.KIMI_PATTERN), List.of());
    Encoding theirs =
        registry
            .registerGptBytePairEncoding(
                new GptBytePairEncodingParams("kimi-pattern-cl100k", SplitPattern.compile(TiktokenFile.KIMI_PATTERN), ranksOf(model), Map.of()))
            .getEncoding("kimi-pattern-cl100k")
            .orElseThrow();
    assertSameIds(ours, theirs);
  }

  @Test
  void kimiPatternKeepsHanRunsApartFromOtherLettersAndSplitsContractions() {
    var pattern = SplitPattern.compile(TiktokenFile.KIMI_PATTERN);
    List<String> words = new ArrayList<>();
    new PreTokenizer.Split(pattern, PreTokenizer.Behavior.REMOVED, true).split("Say hi你好ÉCOLE's 12345\n\n", words);
    assertThat(words).containsExactly("Say", " hi", "你好", "ÉCOLE's", " ", "123", "45", "\n\n");
  }

  @Test
  void loadsAKimiStyleModelDirectoryWithItsSpecialTokens(@TempDir Path kimi) throws IOException {
    Files.copy(model, kimi.resolve(TiktokenFile.FILE_NAME));
    int base = ranksOf(model).size();
    Files.writeString(kimi.resolve("tokenizer_config.json"), """
        {"bos_token": "[BOS]", "eos_token": "[EOS]", "add_bos_token": true,
         "added_tokens_decoder": {
           "%d": {"content": "[BOS]", "special": true},
           "%d": {"content": "[EOS]", "special": true},
           "%d": {"content": "<|im_end|>", "special": true},
           "%d": {"content": "<|im_user|>", "special": false}}}
        """.formatted(base, base + 1, base + 4, base + 5));
    Tokenizer tokenizer = Tokenizer.load(kimi);
    Encoding cl100k = registry.getEncoding(EncodingType.CL100K_BASE);

    assertThat(tokenizer.vocabSize()).isEqualTo(base + TiktokenFile.RESERVED_SPECIAL_TOKENS + 2);
    assertThat(tokenizer.bosId()).hasValue(base);
    assertThat(tokenizer.eosId()).hasValue(base + 1);
    int reserved = base + 7;
    String text = "<|im_user|>Hello world<|im_end|><|reserved_token_" + reserved + "|>";
    int[] hello = cl100k.encodeOrdinary("Hello world").toArray();
    assertThat(tokenizer.encode(text))
        .containsExactly(concat(new int[] {base + 5}, hello, new int[] {base + 4, reserved}));
    assertThat(tokenizer.encodePrompt("Hello world")).containsExactly(concat(new int[] {base}, hello));
    assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
    assertThat(tokenizer.decode(tokenizer.encode(text), true)).isEqualTo("<|im_user|>Hello world");
  }

  @Test
  void cutsRunsLongerThanKimiDoesBeforeEncoding() {
    String longRun = "a".repeat(TiktokenFile.MAX_RUN + 5_000) + "  \n" + "b".repeat(10);
    List<String> pieces = TiktokenFile.cutLongRuns(longRun);
    assertThat(pieces).extracting(String::length).containsExactly(TiktokenFile.MAX_RUN, 5_000 + 3 + 10);
    assertThat(String.join("", pieces)).isEqualTo(longRun);
    assertThat(TiktokenFile.cutLongRuns("short")).containsExactly("short");
  }

  @Test
  void roundTripsTheSample() throws IOException {
    BpeTokenizer ours = TiktokenFile.read(model, SplitPattern.compile(TiktokenFile.KIMI_PATTERN), List.of());
    for (String text : sample) {
      assertThat(ours.decode(ours.encode(text), false)).isEqualTo(text);
    }
  }

  @Test
  void failsOnAMalformedLineNamingIt(@TempDir Path bad) throws IOException {
    Path file = bad.resolve(TiktokenFile.FILE_NAME);
    Files.writeString(file, "IQ== 0\nnot-base64! 1\n");
    assertThatThrownBy(() -> TiktokenFile.ranks(file)).isInstanceOf(IOException.class).hasMessageContaining("line 2");
    Files.writeString(file, "IQ== 0\nIg== 5\n");
    assertThatThrownBy(() -> TiktokenFile.ranks(file)).isInstanceOf(IOException.class).hasMessageContaining("ranks must be 0..1");
  }

  private static void assertSameIds(BpeTokenizer ours, Encoding theirs) {
    List<String> mismatches = new ArrayList<>();
    long chars = 0;
    for (String text : sample) {
      int[] expected = theirs.encodeOrdinary(text).toArray();
      int[] actual = ours.encode(text);
      chars += text.length();
      if (!Arrays.equals(expected, actual) && mismatches.size() < 5) {
        mismatches.add(text + "\n  expected " + Arrays.toString(expected) + "\n  actual   " + Arrays.toString(actual));
      }
    }
    assertThat(chars).isGreaterThanOrEqualTo(100_000);
    assertThat(mismatches).isEmpty();
  }

  private static Map<byte[], Integer> ranksOf(Path file) throws IOException {
    Map<byte[], Integer> ranks = new HashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        String[] parts = line.split(" ");
        ranks.put(Base64.getDecoder().decode(parts[0]), Integer.parseInt(parts[1]));
      }
    }
    return ranks;
  }

  private static int[] concat(int[]... parts) {
    return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
  }
}
