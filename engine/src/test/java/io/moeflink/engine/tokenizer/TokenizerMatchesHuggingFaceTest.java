package io.moeflink.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pure-Java tokenizer against Hugging Face's tokenizers library itself (through DJL's JNI
 * binding, a test-only dependency): the same ids for every text of a large generated multilingual
 * sample, the same text for the same ids, for DeepSeek-V3's real {@code tokenizer.json} and for
 * variants of it that exercise the other pre-tokenizers, normalizers and added-token options.
 */
class TokenizerMatchesHuggingFaceTest {

  private static final int SAMPLE_CHARS = 120_000;
  private static final Map<String, String> RAW =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

  @TempDir static Path deepSeekDir;
  private static Tokenizer deepSeek;
  private static HuggingFaceTokenizer deepSeekReference;
  private static List<String> sample;
  /** The sample without random code points, for normalizers (see {@link #normalizersSplitBehaviorsAndAddedTokenOptionsGiveTheIdsOfHuggingFaceTokenizers}). */
  private static List<String> assignedLongAgo;

  @BeforeAll
  static void load() throws IOException {
    BundledTokenizer.writeTo(deepSeekDir);
    deepSeek = Tokenizer.load(deepSeekDir);
    deepSeekReference = reference(deepSeekDir);
    List<String> specials = List.of("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
        "<｜Assistant｜>", "<｜tool▁sep｜>", "<｜tool▁calls▁begin｜>", "<｜▁pad▁｜>", "<think>", "</think>");
    sample = MultilingualSample.generate(20250101L, SAMPLE_CHARS, m -> deepSeek.renderChatTemplate(m, true), specials, true);
    assignedLongAgo = MultilingualSample.generate(20250102L, SAMPLE_CHARS, m -> deepSeek.renderChatTemplate(m, true), specials, false);
  }

  @AfterAll
  static void close() {
    deepSeekReference.close();
  }

  @Test
  void deepSeekV3GivesTheIdsOfHuggingFaceTokenizers() {
    assertSameIds(deepSeek, deepSeekReference, sample);
    // The whole sample as one text too: long inputs, and words across item boundaries.
    String whole = String.join("", sample);
    assertThat(deepSeek.encode(whole)).isEqualTo(toInts(deepSeekReference.encode(whole, false, false).getIds()));
  }

  @Test
  void deepSeekV3DecodesAsHuggingFaceTokenizersAndRoundTrips() {
    for (String text : sample) {
      int[] ids = deepSeek.encode(text);
      assertThat(deepSeek.decode(ids)).as("round trip of %s", escape(text)).isEqualTo(text);
      assertThat(deepSeek.decode(ids, true)).isEqualTo(deepSeekReference.decode(toLongs(ids), true));
    }
  }

  @Test
  void decodesArbitraryIdsAsHuggingFaceTokenizers() {
    // Random ids cut characters apart and mix special tokens in: invalid UTF-8 must decode alike.
    Random random = new Random(7);
    for (int i = 0; i < 2_000; i++) {
      int[] ids = new int[1 + random.nextInt(12)];
      for (int j = 0; j < ids.length; j++) {
        ids[j] = random.nextInt(4) == 0 ? 128_000 + random.nextInt(815) : random.nextInt(deepSeek.vocabSize());
      }
      for (boolean skip : new boolean[] {false, true}) {
        assertThat(deepSeek.decode(ids, skip))
            .as("decode(%s, %s)", Arrays.toString(ids), skip)
            .isEqualTo(deepSeekReference.decode(toLongs(ids), skip));
      }
    }
  }

  @Test
  void gpt2StyleByteLevelGivesTheIdsOfHuggingFaceTokenizers(@TempDir Path dir) throws IOException {
    for (boolean prefixSpace : new boolean[] {false, true}) {
      assertVariantMatches(dir.resolve("prefix-" + prefixSpace), sample, root -> {
        ObjectNode byteLevel = root.putObject("pre_tokenizer");
        byteLevel.put("type", "ByteLevel").put("add_prefix_space", prefixSpace).put("trim_offsets", true).put("use_regex", true);
      });
    }
  }

  /**
   * Unicode normalization follows the JDK's tables here and older ones in Hugging Face's
   * normalizers (U+AB69, assigned in Unicode 13, is NFKC-normalized by JDK 17 and left alone by
   * tokenizers 0.21), so these variants run on the sample without random code points.
   */
  @Test
  void normalizersSplitBehaviorsAndAddedTokenOptionsGiveTheIdsOfHuggingFaceTokenizers(@TempDir Path dir) throws IOException {
    assertVariantMatches(dir.resolve("nfkc-lowercase-merged"), assignedLongAgo, root -> {
      ArrayNode normalizers = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
      normalizers.addObject().put("type", "NFKC");
      normalizers.addObject().put("type", "Lowercase");
      normalizers.addObject().put("type", "Replace").put("content", "_").putObject("pattern").put("String", "ß");
      ArrayNode pre = root.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
      pre.addObject().put("type", "Split").put("behavior", "MergedWithPrevious").put("invert", false)
          .putObject("pattern").put("Regex", "\\s+");
      pre.addObject().put("type", "Split").put("behavior", "Contiguous").put("invert", false)
          .putObject("pattern").put("Regex", "\\p{P}");
      pre.addObject().put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", false);
      for (var token : root.withArray("added_tokens")) {
        String content = token.path("content").asText();
        ObjectNode t = (ObjectNode) token;
        if (content.equals("<｜User｜>")) {
          t.put("lstrip", true).put("rstrip", true);
        } else if (content.equals("<think>")) {
          t.put("single_word", true);
        } else if (content.equals("<｜Assistant｜>")) {
          t.put("normalized", false).put("rstrip", true);
        }
      }
    });
    assertVariantMatches(dir.resolve("merged-next-removed"), assignedLongAgo, root -> {
      ArrayNode pre = root.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
      pre.addObject().put("type", "Split").put("behavior", "MergedWithNext").put("invert", false)
          .putObject("pattern").put("Regex", "[\\p{P}\\p{S}]");
      pre.addObject().put("type", "Split").put("behavior", "Removed").put("invert", false)
          .putObject("pattern").put("String", " ");
      pre.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", true)
          .putObject("pattern").put("Regex", "\\p{L}+");
      pre.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
      root.putObject("normalizer").put("type", "NFD");
    });
  }

  /** Prints both tokenizers' encode speed on the sample; the figures go into the README. */
  @Test
  void measuresEncodeSpeedAgainstHuggingFaceTokenizers() {
    String whole = String.join("", sample);
    long ours = bestNanos(() -> deepSeek.encode(whole));
    long theirs = bestNanos(() -> deepSeekReference.encode(whole, false, false));
    System.out.printf(Locale.ROOT, "encode speed on %d chars: pure Java %.2f M chars/s, DJL (Rust) %.2f M chars/s%n",
        whole.length(), whole.length() * 1e3 / ours, whole.length() * 1e3 / theirs);
    assertThat(ours).isPositive();
  }

  private static long bestNanos(Runnable encode) {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 8; i++) {
      long start = System.nanoTime();
      encode.run();
      best = Math.min(best, System.nanoTime() - start);
    }
    return best;
  }

  private static void assertVariantMatches(Path dir, List<String> texts, Consumer<ObjectNode> change) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(deepSeekDir.resolve("tokenizer.json").toFile());
    change.accept(root);
    Files.createDirectories(dir);
    json.writeValue(dir.resolve("tokenizer.json").toFile(), root);
    Tokenizer ours = Tokenizer.load(dir);
    try (HuggingFaceTokenizer theirs = reference(dir)) {
      assertSameIds(ours, theirs, texts);
      for (String text : texts.subList(0, 300)) {
        long[] ids = theirs.encode(text, false, false).getIds();
        assertThat(ours.decode(toInts(ids), false)).isEqualTo(theirs.decode(ids, false));
      }
    }
  }

  private static void assertSameIds(Tokenizer ours, HuggingFaceTokenizer theirs, List<String> texts) {
    List<String> mismatches = new ArrayList<>();
    long chars = 0;
    for (String text : texts) {
      int[] expected = toInts(theirs.encode(text, false, false).getIds());
      int[] actual = ours.encode(text);
      chars += text.length();
      if (!Arrays.equals(expected, actual) && mismatches.size() < 5) {
        mismatches.add(escape(text) + "\n  expected " + Arrays.toString(expected) + "\n  actual   " + Arrays.toString(actual));
      }
    }
    assertThat(chars).isGreaterThanOrEqualTo(SAMPLE_CHARS);
    assertThat(mismatches).as("texts whose ids differ from Hugging Face's").isEmpty();
  }

  private static HuggingFaceTokenizer reference(Path dir) throws IOException {
    try (InputStream in = Files.newInputStream(dir.resolve("tokenizer.json"))) {
      return HuggingFaceTokenizer.newInstance(in, RAW);
    }
  }

  private static int[] toInts(long[] ids) {
    return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
  }

  private static long[] toLongs(int[] ids) {
    return Arrays.stream(ids).asLongStream().toArray();
  }

  private static String escape(String text) {
    StringBuilder sb = new StringBuilder("\"");
    text.codePoints().forEach(cp -> {
      if (cp >= 0x20 && cp < 0x7F) {
        sb.appendCodePoint(cp);
      } else {
        sb.append(String.format(Locale.ROOT, "\\u{%X}", cp));
      }
    });
    return sb.append('"').toString();
  }
}
