package io.moeflink.engine.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.moeflink.engine.structured.SchemaNode.AnyNode;
import io.moeflink.engine.structured.SchemaNode.AnyObjectNode;
import io.moeflink.engine.structured.SchemaNode.ArrayNode;
import io.moeflink.engine.structured.SchemaNode.LiteralNode;
import io.moeflink.engine.structured.SchemaNode.NumberNode;
import io.moeflink.engine.structured.SchemaNode.ObjectNode;
import io.moeflink.engine.structured.SchemaNode.Property;
import io.moeflink.engine.structured.SchemaNode.StringNode;
import io.moeflink.engine.structured.SchemaNode.UnionNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a JSON schema into the {@link SchemaNode}s that decoding enforces. Supported: {@code type}
 * (one or a list), {@code properties}, {@code required}, {@code additionalProperties} (no other
 * property is ever written), {@code enum}, {@code const}, {@code items}, {@code minItems}, {@code
 * maxItems}, {@code minLength}, {@code maxLength}, and the annotations that constrain nothing.
 * Every other keyword is refused by name, so a schema never silently loses a constraint.
 */
final class SchemaCompiler {

  /** How deep values of an unconstrained ({@code {}}) schema or a json_object may nest. */
  static final int ANY_DEPTH = 6;

  /** How deep a schema itself may nest. */
  private static final int MAX_SCHEMA_DEPTH = 32;

  /** Keywords that describe and constrain nothing. */
  private static final Set<String> ANNOTATIONS = Set.of(
      "title", "description", "$schema", "$id", "$comment", "default", "examples", "deprecated",
      "readOnly", "writeOnly", "$defs", "definitions", "additionalProperties", "strict", "name");

  private static final Set<String> KNOWN = Set.of(
      "type", "properties", "required", "enum", "const", "items", "minItems", "maxItems", "minLength",
      "maxLength");

  private SchemaCompiler() {}

  static SchemaNode compile(JsonNode schema) {
    return node(schema, "#", 0);
  }

  private static SchemaNode node(JsonNode schema, String path, int depth) {
    if (depth > MAX_SCHEMA_DEPTH) {
      throw new UnsupportedSchemaException(null, "The schema nests more than " + MAX_SCHEMA_DEPTH + " levels at " + path);
    }
    if (schema.isBoolean() && schema.booleanValue()) {
      return new AnyNode(ANY_DEPTH);
    }
    if (!schema.isObject()) {
      throw new UnsupportedSchemaException(null, "The schema at " + path + " must be an object, got " + schema);
    }
    for (Iterator<String> names = schema.fieldNames(); names.hasNext(); ) {
      String keyword = names.next();
      if (!KNOWN.contains(keyword) && !ANNOTATIONS.contains(keyword)) {
        throw new UnsupportedSchemaException(keyword, "The schema keyword '" + keyword + "' at " + path
            + " is not supported by structured output (supported: type, properties, required, enum, const,"
            + " items, minItems, maxItems, minLength, maxLength)");
      }
    }
    if (schema.has("const")) {
      return new LiteralNode(List.of(literal(schema.get("const"))));
    }
    if (schema.has("enum")) {
      return enumeration(schema.get("enum"), path);
    }
    List<String> types = types(schema, path);
    if (types.isEmpty()) {
      return schema.has("properties") ? object(schema, path, depth) : new AnyNode(ANY_DEPTH);
    }
    List<SchemaNode> options = new ArrayList<>();
    for (String type : types) {
      options.add(ofType(type, schema, path, depth));
    }
    return options.size() == 1 ? options.get(0) : new UnionNode(List.copyOf(options));
  }

  private static List<String> types(JsonNode schema, String path) {
    JsonNode type = schema.get("type");
    if (type == null) {
      return List.of();
    }
    Set<String> out = new LinkedHashSet<>();
    if (type.isTextual()) {
      out.add(type.textValue());
    } else if (type.isArray() && !type.isEmpty()) {
      type.forEach(t -> out.add(t.asText()));
    } else {
      throw new UnsupportedSchemaException("type", "'type' at " + path + " must be a type name or a non-empty list, got " + type);
    }
    if (out.contains("integer") && out.contains("number")) {
      out.remove("integer"); // every integer is a number
    }
    return List.copyOf(out);
  }

  private static SchemaNode ofType(String type, JsonNode schema, String path, int depth) {
    return switch (type) {
      case "string" -> string(schema, path);
      case "number" -> new NumberNode(false);
      case "integer" -> new NumberNode(true);
      case "boolean" -> new LiteralNode(List.of("true", "false"));
      case "null" -> new LiteralNode(List.of("null"));
      case "object" -> object(schema, path, depth);
      case "array" -> array(schema, path, depth);
      default -> throw new UnsupportedSchemaException("type", "Unknown type '" + type + "' at " + path
          + " (expected string, number, integer, boolean, null, object or array)");
    };
  }

  private static SchemaNode string(JsonNode schema, String path) {
    int min = count(schema, "minLength", 0, path);
    int max = count(schema, "maxLength", -1, path);
    if (max >= 0 && max < min) {
      throw new UnsupportedSchemaException("maxLength", "maxLength " + max + " is below minLength " + min + " at " + path);
    }
    return new StringNode(min, max);
  }

  private static SchemaNode array(JsonNode schema, String path, int depth) {
    int min = count(schema, "minItems", 0, path);
    int max = count(schema, "maxItems", -1, path);
    if (max >= 0 && max < min) {
      throw new UnsupportedSchemaException("maxItems", "maxItems " + max + " is below minItems " + min + " at " + path);
    }
    JsonNode items = schema.get("items");
    if (items != null && items.isArray()) {
      throw new UnsupportedSchemaException("items", "'items' at " + path + " is a list (tuple validation); give one schema");
    }
    SchemaNode item = items == null ? new AnyNode(ANY_DEPTH - 1) : node(items, path + "/items", depth + 1);
    return new ArrayNode(item, min, max);
  }

  private static SchemaNode object(JsonNode schema, String path, int depth) {
    JsonNode properties = schema.get("properties");
    Set<String> required = new HashSet<>();
    JsonNode req = schema.get("required");
    if (req != null) {
      if (!req.isArray()) {
        throw new UnsupportedSchemaException("required", "'required' at " + path + " must be a list of names");
      }
      req.forEach(r -> required.add(r.asText()));
    }
    if (properties == null) {
      if (!required.isEmpty()) {
        throw new UnsupportedSchemaException("required", "'required' at " + path + " names properties but there are no"
            + " 'properties' to generate them from");
      }
      boolean closed = schema.has("additionalProperties") && schema.get("additionalProperties").isBoolean()
          && !schema.get("additionalProperties").booleanValue();
      return closed ? new ObjectNode(List.of()) : new AnyObjectNode(ANY_DEPTH - 1);
    }
    if (!properties.isObject()) {
      throw new UnsupportedSchemaException("properties", "'properties' at " + path + " must be an object");
    }
    List<Property> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      SchemaNode value = node(e.getValue(), path + "/properties/" + e.getKey(), depth + 1);
      out.add(new Property(literal(TextNode.valueOf(e.getKey())), value,
          required.remove(e.getKey())));
    }
    if (!required.isEmpty()) {
      throw new UnsupportedSchemaException("required", "'required' at " + path + " names " + required
          + ", not among the properties");
    }
    return new ObjectNode(List.copyOf(out));
  }

  private static SchemaNode enumeration(JsonNode values, String path) {
    if (!values.isArray() || values.isEmpty()) {
      throw new UnsupportedSchemaException("enum", "'enum' at " + path + " must be a non-empty list");
    }
    Set<String> literals = new LinkedHashSet<>();
    values.forEach(v -> literals.add(literal(v)));
    return new LiteralNode(List.copyOf(literals));
  }

  private static int count(JsonNode schema, String keyword, int absent, String path) {
    JsonNode n = schema.get(keyword);
    if (n == null) {
      return absent;
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
      throw new UnsupportedSchemaException(keyword, "'" + keyword + "' at " + path + " must be an integer >= 0, got " + n);
    }
    return n.intValue();
  }

  /** A value's compact JSON text as UTF-8 bytes, one byte per char. */
  static String literal(JsonNode value) {
    return new String(value.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }
}
