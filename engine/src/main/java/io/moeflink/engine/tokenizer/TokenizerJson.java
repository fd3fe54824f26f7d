package io.moeflink.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a Hugging Face {@code tokenizer.json} whose model is byte-level BPE: its {@code model}
 * (vocabulary, merges, {@code ignore_merges}, {@code byte_fallback}, the unknown token), {@code
 * added_tokens}, {@code normalizer}, {@code pre_tokenizer} and {@code decoder}. The {@code
 * post_processor} only matters when special tokens are added, which this engine never asks for.
 * Anything else is refused at load with the name of what is not supported.
 */
final class TokenizerJson {

  private final Path file;

  private TokenizerJson(Path file) {
    this.file = file;
  }

  /** @throws IOException naming the file and the field that cannot be read */
  static BpeTokenizer read(JsonNode root, Path file) throws IOException {
    return new TokenizerJson(file).tokenizer(root);
  }

  private BpeTokenizer tokenizer(JsonNode root) throws IOException {
    JsonNode model = root.get("model");
    if (model == null || !model.isObject()) {
      throw new IOException(file + " has no \"model\" object; is it a Hugging Face tokenizers file?");
    }
    String type = model.path("type").asText("BPE");
    if (!type.equals("BPE")) {
      throw fail("model type " + type + " is not supported: this engine reads BPE tokenizers (and tiktoken.model)");
    }
    Map<String, Integer> vocab = vocabulary(model.path("vocab"));
    Normalizer normalizer = normalizer(root.get("normalizer"));
    List<AddedTokens.Token> addedTokens = addedTokens(root.path("added_tokens"));
    BytePairEncoding bpe =
        new BytePairEncoding(
            vocab,
            merges(model.path("merges"), vocab),
            model.path("ignore_merges").asBoolean(false),
            model.path("byte_fallback").asBoolean(false),
            unknownToken(model, vocab),
            model.path("fuse_unk").asBoolean(false));
    return new BpeTokenizer(
        vocab,
        bpe,
        new AddedTokens(addedTokens, normalizer),
        normalizer,
        preTokenizer(root.get("pre_tokenizer")),
        byteLevelDecoder(root.get("decoder")),
        false,
        List::of);
  }

  private Map<String, Integer> vocabulary(JsonNode vocab) throws IOException {
    if (!vocab.isObject()) {
      throw fail("model.vocab must be an object of token to id");
    }
    Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
    var fields = vocab.fields();
    while (fields.hasNext()) {
      var entry = fields.next();
      if (!entry.getValue().canConvertToInt() || entry.getValue().asInt() < 0) {
        throw fail("model.vocab gives token " + entry.getKey() + " the id " + entry.getValue());
      }
      ids.put(entry.getKey(), entry.getValue().asInt());
    }
    return Map.copyOf(ids);
  }

  /** Merges as {@code "a b"} strings (older files) or {@code ["a", "b"]} pairs (newer ones). */
  private MergeList merges(JsonNode merges, Map<String, Integer> vocab) throws IOException {
    if (!merges.isArray()) {
      throw fail("model.merges must be a list");
    }
    MergeList list = new MergeList(merges.size());
    int rank = 0;
    for (JsonNode merge : merges) {
      String left;
      String right;
      if (merge.isTextual()) {
        String[] parts = merge.textValue().split(" ", -1);
        if (parts.length != 2) {
          throw fail("merge " + rank + " \"" + merge.textValue() + "\" is not two tokens separated by a space");
        }
        left = parts[0];
        right = parts[1];
      } else if (merge.isArray() && merge.size() == 2) {
        left = merge.get(0).asText();
        right = merge.get(1).asText();
      } else {
        throw fail("merge " + rank + " is neither \"a b\" nor [\"a\", \"b\"]: " + merge);
      }
      Integer leftId = vocab.get(left);
      Integer rightId = vocab.get(right);
      Integer mergedId = vocab.get(left + right);
      if (leftId == null || rightId == null || mergedId == null) {
        throw fail("merge " + rank + " (" + left + " " + right + ") names a token that is not in model.vocab");
      }
      list.put(leftId, rightId, rank++, mergedId);
    }
    return list;
  }

  private OptionalInt unknownToken(JsonNode model, Map<String, Integer> vocab) throws IOException {
    for (String unsupported : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (!model.path(unsupported).asText("").isEmpty()) {
        throw fail("model." + unsupported + " is not supported (byte-level BPE has none)");
      }
    }
    if (model.path("dropout").asDouble(0) != 0) {
      throw fail("model.dropout " + model.get("dropout") + " would make tokenization random; only null or 0 is supported");
    }
    JsonNode unk = model.get("unk_token");
    if (unk == null || unk.isNull()) {
      return OptionalInt.empty();
    }
    Integer id = vocab.get(unk.asText());
    if (id == null) {
      throw fail("model.unk_token " + unk + " is not in model.vocab");
    }
    return OptionalInt.of(id);
  }

  private List<AddedTokens.Token> addedTokens(JsonNode list) throws IOException {
    List<AddedTokens.Token> tokens = new ArrayList<>();
    for (JsonNode token : list) {
      int id = token.path("id").asInt(-1);
      String content = token.path("content").asText(null);
      if (id < 0 || content == null) {
        throw new IOException(file + " has an added token without id or content: " + token);
      }
      boolean special = token.path("special").asBoolean(false);
      tokens.add(
          new AddedTokens.Token(
              id,
              content,
              special,
              token.path("normalized").asBoolean(!special),
              token.path("single_word").asBoolean(false),
              token.path("lstrip").asBoolean(false),
              token.path("rstrip").asBoolean(false)));
    }
    return tokens;
  }

  private Normalizer normalizer(JsonNode node) throws IOException {
    if (node == null || node.isNull()) {
      return Normalizer.NONE;
    }
    String type = node.path("type").asText();
    return switch (type) {
      case "Sequence" -> {
        List<Normalizer> steps = new ArrayList<>();
        for (JsonNode step : node.path("normalizers")) {
          steps.add(normalizer(step));
        }
        yield new Normalizer.Sequence(List.copyOf(steps));
      }
      case "NFC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFC);
      case "NFD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFD);
      case "NFKC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKC);
      case "NFKD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKD);
      case "Lowercase" -> new Normalizer.Lowercase();
      case "Prepend" -> new Normalizer.Prepend(node.path("prepend").asText());
      case "Strip" -> new Normalizer.Strip(node.path("strip_left").asBoolean(true), node.path("strip_right").asBoolean(true));
      case "Replace" -> new Normalizer.Replace(pattern(node.path("pattern"), "normalizer Replace"), node.path("content").asText());
      default -> throw fail("normalizer " + type + " is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Strip, Replace)");
    };
  }

  private PreTokenizer preTokenizer(JsonNode node) throws IOException {
    if (node == null || node.isNull()) {
      return new PreTokenizer.Sequence(List.of());
    }
    String type = node.path("type").asText();
    return switch (type) {
      case "Sequence" -> {
        List<PreTokenizer> steps = new ArrayList<>();
        for (JsonNode step : node.path("pretokenizers")) {
          steps.add(preTokenizer(step));
        }
        yield new PreTokenizer.Sequence(List.copyOf(steps));
      }
      case "Split" -> new PreTokenizer.Split(
          pattern(node.path("pattern"), "pre_tokenizer Split"),
          behavior(node.path("behavior").asText()),
          node.path("invert").asBoolean(false));
      case "ByteLevel" -> new PreTokenizer.ByteLevel(
          node.path("add_prefix_space").asBoolean(true), node.path("use_regex").asBoolean(true));
      default -> throw fail("pre_tokenizer " + type + " is not supported (supported: Sequence, Split, ByteLevel)");
    };
  }

  private PreTokenizer.Behavior behavior(String name) throws IOException {
    return switch (name) {
      case "Removed" -> PreTokenizer.Behavior.REMOVED;
      case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
      case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
      case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
      case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
      default -> throw fail("Split behavior \"" + name + "\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
    };
  }

  /** {@code {"Regex": "..."}} or {@code {"String": "..."}} (a literal). */
  private Pattern pattern(JsonNode node, String where) throws IOException {
    if (node.has("String")) {
      return Pattern.compile(Pattern.quote(node.get("String").asText()));
    }
    if (!node.has("Regex")) {
      throw fail(where + " has no pattern (\"Regex\" or \"String\")");
    }
    String regex = node.get("Regex").asText();
    try {
      return SplitPattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw fail(where + " regex " + regex + " cannot be compiled here: " + e.getDescription());
    }
  }

  /** ByteLevel decodes byte-level tokens; no decoder joins tokens with spaces, as Hugging Face does. */
  private boolean byteLevelDecoder(JsonNode node) throws IOException {
    if (node == null || node.isNull()) {
      return false;
    }
    String type = node.path("type").asText();
    if (!type.equals("ByteLevel")) {
      throw fail("decoder " + type + " is not supported (supported: ByteLevel)");
    }
    return true;
  }

  private IOException fail(String what) {
    return new IOException(file + ": " + what);
  }
}
