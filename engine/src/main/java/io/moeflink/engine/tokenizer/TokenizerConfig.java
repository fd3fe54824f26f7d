package io.moeflink.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What this engine reads from {@code tokenizer_config.json} (and {@code chat_template.jinja}, which
 * newer Hugging Face exports write instead of the {@code chat_template} key).
 *
 * @param addBosToken whether a plain prompt starts with BOS ({@code add_bos_token})
 * @param addEosToken whether a plain prompt ends with EOS ({@code add_eos_token})
 * @param bosToken the BOS token's text, if any
 * @param eosToken the EOS token's text, if any
 * @param chatTemplate the Jinja source of the chat template, if any
 */
record TokenizerConfig(
    boolean addBosToken,
    boolean addEosToken,
    Optional<String> bosToken,
    Optional<String> eosToken,
    Optional<String> chatTemplate) {

  static final String FILE_NAME = "tokenizer_config.json";
  static final String TEMPLATE_FILE_NAME = "chat_template.jinja";

  static TokenizerConfig read(Path modelDir, ObjectMapper json) throws IOException {
    Path file = modelDir.resolve(FILE_NAME);
    Path templateFile = modelDir.resolve(TEMPLATE_FILE_NAME);
    Optional<String> templateFromFile =
        Files.isRegularFile(templateFile)
            ? Optional.of(Files.readString(templateFile, StandardCharsets.UTF_8))
            : Optional.empty();
    if (!Files.isRegularFile(file)) {
      return new TokenizerConfig(
          false, false, Optional.empty(), Optional.empty(), templateFromFile);
    }
    JsonNode root;
    try {
      root = json.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException(file + " must hold a JSON object");
    }
    return new TokenizerConfig(
        flag(root, "add_bos_token", file),
        flag(root, "add_eos_token", file),
        tokenText(root, "bos_token", file),
        tokenText(root, "eos_token", file),
        templateFromFile.or(() -> chatTemplate(root)));
  }

  private static boolean flag(JsonNode root, String key, Path file) throws IOException {
    JsonNode node = root.get(key);
    if (node == null || node.isNull()) {
      return false;
    }
    if (!node.isBoolean()) {
      throw new IOException(key + " in " + file + " must be true or false, got " + node);
    }
    return node.booleanValue();
  }

  /** A special token is written either as its text or as an AddedToken object with "content". */
  private static Optional<String> tokenText(JsonNode root, String key, Path file)
      throws IOException {
    JsonNode node = root.get(key);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.textValue());
    }
    JsonNode content = node.get("content");
    if (node.isObject() && content != null && content.isTextual()) {
      return Optional.of(content.textValue());
    }
    throw new IOException(
        key + " in " + file + " must be a string or an object with \"content\", got " + node);
  }

  /** A single template, or a list of named ones of which "default" is the chat template. */
  private static Optional<String> chatTemplate(JsonNode root) {
    JsonNode node = root.get("chat_template");
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.textValue());
    }
    for (JsonNode named : node) {
      if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
        return Optional.of(named.get("template").textValue());
      }
    }
    return Optional.empty();
  }
}
