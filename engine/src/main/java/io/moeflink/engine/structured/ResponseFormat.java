package io.moeflink.engine.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;

/**
 * What shape a completion must have, in OpenAI's {@code response_format} convention: {@code
 * {"type": "json_object"}} (any JSON object), {@code {"type": "json_schema", "json_schema":
 * {"schema": {...}}}} (a value that the schema accepts) or {@code {"type": "text"}} (no
 * constraint).
 *
 * @param canonical the format reduced to what constrains the output (the schema's compact text, no
 *     name or description): equal for equal constraints, the key of the compiled automata
 */
public record ResponseFormat(String canonical, SchemaNode root) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads a {@code response_format} given as JSON text.
   *
   * @return the constraint, or empty for {@code {"type": "text"}}
   * @throws UnsupportedSchemaException if the text is not JSON, not a known format, or the schema
   *     uses a keyword that decoding cannot enforce (named in the message)
   */
  public static Optional<ResponseFormat> parse(String json) {
    JsonNode format;
    try {
      format = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UnsupportedSchemaException(null, "response_format is not valid JSON: " + e.getOriginalMessage());
    }
    return of(format);
  }

  /** As {@link #parse(String)}, from the parsed JSON. */
  public static Optional<ResponseFormat> of(JsonNode format) {
    if (format == null || !format.isObject() || !format.path("type").isTextual()) {
      throw new UnsupportedSchemaException(null, "response_format must be an object with a 'type' (json_object,"
          + " json_schema or text), got " + format);
    }
    String type = format.get("type").textValue();
    switch (type) {
      case "text":
        return Optional.empty();
      case "json_object":
        return Optional.of(new ResponseFormat("json_object", new SchemaNode.AnyObjectNode(SchemaCompiler.ANY_DEPTH - 1)));
      case "json_schema": {
        JsonNode schema = format.path("json_schema").get("schema");
        if (schema == null) {
          throw new UnsupportedSchemaException(null, "response_format of type json_schema needs"
              + " \"json_schema\": {\"schema\": {...}}");
        }
        return Optional.of(new ResponseFormat("json_schema:" + schema, SchemaCompiler.compile(schema)));
      }
      default:
        throw new UnsupportedSchemaException(null, "response_format type '" + type
            + "' is unknown; expected json_object, json_schema or text");
    }
  }
}
