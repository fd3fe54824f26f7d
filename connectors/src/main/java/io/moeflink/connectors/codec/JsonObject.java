package io.moeflink.connectors.codec;

import com.fasterxml.jackson.databind.JsonNode;
import io.moeflink.schemas.DeadLetterReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed, strict reads from one JSON object. A field that is absent or JSON {@code null} reads as
 * null; a field of the wrong JSON type is a {@link DeadLetterReason#WRONG_TYPE} naming its path.
 */
final class JsonObject {

  /** The object read. */
  private final JsonNode node;

  /** Where the object sits in the record, e.g. {@code "body."}; empty at the top. */
  private final String path;

  private JsonObject(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** The top-level value of a record, which must be an object. */
  static JsonObject root(JsonNode node) throws InvalidRecordException {
    if (!node.isObject()) {
      throw new InvalidRecordException(
          DeadLetterReason.WRONG_TYPE, "A record must be a JSON object, got " + kind(node));
    }
    return new JsonObject(node, "");
  }

  boolean has(String field) {
    JsonNode value = node.get(field);
    return value != null && !value.isNull();
  }

  JsonObject object(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isObject()) {
      throw wrongType(field, "an object", value);
    }
    return new JsonObject(value, path + field + ".");
  }

  String string(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isTextual()) {
      throw wrongType(field, "a string", value);
    }
    return value.textValue();
  }

  Boolean bool(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isBoolean()) {
      throw wrongType(field, "true or false", value);
    }
    return value.booleanValue();
  }

  Integer integer(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw wrongType(field, "an integer", value);
    }
    return value.intValue();
  }

  Long longInteger(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw wrongType(field, "an integer", value);
    }
    return value.longValue();
  }

  Float number(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (!value.isNumber()) {
      throw wrongType(field, "a number", value);
    }
    return value.floatValue();
  }

  /** An array of objects, or null. */
  List<JsonObject> objects(String field) throws InvalidRecordException {
    JsonNode value = array(field);
    if (value == null) {
      return null;
    }
    List<JsonObject> items = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isObject()) {
        throw wrongType(field + "[" + i + "]", "an object", item);
      }
      items.add(new JsonObject(item, path + field + "[" + i + "]."));
    }
    return items;
  }

  /** An array of strings, or null; with {@code acceptSingle} a lone string is a list of one. */
  List<String> strings(String field, boolean acceptSingle) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value == null) {
      return null;
    }
    if (acceptSingle && value.isTextual()) {
      return List.of(value.textValue());
    }
    if (!value.isArray()) {
      throw wrongType(field, acceptSingle ? "a string or an array of strings" : "an array", value);
    }
    List<String> items = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isTextual()) {
        throw wrongType(field + "[" + i + "]", "a string", item);
      }
      items.add(item.textValue());
    }
    return items;
  }

  List<Integer> integers(String field) throws InvalidRecordException {
    JsonNode value = array(field);
    if (value == null) {
      return null;
    }
    List<Integer> items = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isIntegralNumber() || !item.canConvertToInt()) {
        throw wrongType(field + "[" + i + "]", "an integer", item);
      }
      items.add(item.intValue());
    }
    return items;
  }

  /** An object whose values are all strings, or null. */
  Map<String, String> stringMap(String field) throws InvalidRecordException {
    JsonObject value = object(field);
    if (value == null) {
      return null;
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : value.node.properties()) {
      if (!entry.getValue().isTextual()) {
        throw value.wrongType(entry.getKey(), "a string", entry.getValue());
      }
      map.put(entry.getKey(), entry.getValue().textValue());
    }
    return map;
  }

  /** The raw value of a field, or null when absent or JSON null. */
  JsonNode value(String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value;
  }

  InvalidRecordException wrongType(String field, String expected, JsonNode actual) {
    return new InvalidRecordException(
        DeadLetterReason.WRONG_TYPE,
        "Field '" + path + field + "' must be " + expected + ", got " + kind(actual));
  }

  private JsonNode array(String field) throws InvalidRecordException {
    JsonNode value = value(field);
    if (value != null && !value.isArray()) {
      throw wrongType(field, "an array", value);
    }
    return value;
  }

  private static String kind(JsonNode node) {
    String shown = node.toString();
    if (shown.length() > 40) {
      shown = shown.substring(0, 40) + "...";
    }
    return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + shown;
  }
}
