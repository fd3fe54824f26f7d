package io.moeflink.connectors.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.schemas.DeadLetterReason;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The one Jackson mapper of the codecs: strict on input (no duplicate keys, no trailing data). */
final class Json {

  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Json() {}

  /** Parses one record; anything that is not exactly one JSON value is INVALID_JSON. */
  static JsonNode parse(byte[] bytes) throws InvalidRecordException {
    try {
      JsonNode node = MAPPER.readTree(bytes);
      if (node == null || node.isMissingNode()) {
        throw new InvalidRecordException(DeadLetterReason.INVALID_JSON, "The record is empty");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new InvalidRecordException(
          DeadLetterReason.INVALID_JSON, "Not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new InvalidRecordException(DeadLetterReason.INVALID_JSON, "Not valid JSON: " + e, e);
    }
  }

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** One JSON line, without the line break. */
  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("Cannot write JSON for a tree built in memory", e);
    }
  }
}
