package io.moeflink.workbench.bench;

import java.util.List;

/**
 * Ten JSON schemas of the kinds extraction corpora use (flat records, enums, nested objects,
 * bounded arrays and strings, nullable fields, a bare json_object), shared by the structured-output
 * tests and the masking benchmark.
 */
public final class StructuredSchemas {

  private StructuredSchemas() {}

  /** Each as an OpenAI {@code response_format} JSON text. */
  public static final List<String> RESPONSE_FORMATS = List.of(
      schema("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
          + "\"age\":{\"type\":\"integer\"}},\"required\":[\"name\",\"age\"],\"additionalProperties\":false}"),
      schema("{\"type\":\"object\",\"properties\":{\"sentiment\":{\"enum\":[\"positive\",\"neutral\",\"negative\"]},"
          + "\"confidence\":{\"type\":\"number\"}},\"required\":[\"sentiment\"]}"),
      schema("{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":20},"
          + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":8},\"minItems\":1,\"maxItems\":3}},"
          + "\"required\":[\"title\",\"tags\"]}"),
      schema("{\"type\":\"object\",\"properties\":{\"invoice\":{\"type\":\"object\",\"properties\":{"
          + "\"number\":{\"type\":\"integer\"},\"paid\":{\"type\":\"boolean\"}},\"required\":[\"number\",\"paid\"]},"
          + "\"customer\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
          + "\"email\":{\"type\":[\"string\",\"null\"],\"maxLength\":16}},\"required\":[\"name\"]}},"
          + "\"required\":[\"invoice\",\"customer\"]}"),
      schema("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":5}"),
      schema("{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"boolean\"},"
          + "\"reason\":{\"type\":\"string\",\"maxLength\":24}},\"required\":[\"answer\",\"reason\"]}"),
      schema("{\"type\":\"object\",\"properties\":{\"points\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
          + "\"properties\":{\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"number\"}},\"required\":[\"x\",\"y\"]},"
          + "\"maxItems\":2}},\"required\":[\"points\"]}"),
      schema("{\"type\":\"object\",\"properties\":{\"version\":{\"const\":\"v1\"},\"level\":{\"enum\":[1,2,3]},"
          + "\"note\":{\"type\":[\"string\",\"null\"],\"maxLength\":10}},\"required\":[\"version\",\"level\",\"note\"]}"),
      schema("{\"type\":\"string\",\"minLength\":2,\"maxLength\":30}"),
      "{\"type\":\"json_object\"}");

  private static String schema(String schema) {
    return "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"schema\":" + schema + "}}";
  }

  /** The schema inside {@code responseFormat}, or {@code {"type":"object"}} for json_object. */
  public static String schemaOf(String responseFormat) {
    String prefix = "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"schema\":";
    return responseFormat.startsWith(prefix)
        ? responseFormat.substring(prefix.length(), responseFormat.length() - 2)
        : "{\"type\":\"object\"}";
  }
}
