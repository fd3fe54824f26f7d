package io.moeflink.engine.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeflink.engine.structured.JsonAutomaton.State;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonAutomatonTest {

  private static final String PERSON = """
      {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "kind": {"enum": ["cat", "dog", 3]},
        "alive": {"type": "boolean"},
        "address": {"type": "object", "properties": {"city": {"type": ["string", "null"]}}, "required": ["city"]}
      }, "required": ["name", "age", "kind"]}""";

  private static SchemaNode schema(String json) {
    return ResponseFormat.parse("{\"type\":\"json_schema\",\"json_schema\":{\"schema\":" + json + "}}").orElseThrow().root();
  }

  /** Whether the whole text is a complete value of {@code root}. */
  private static boolean accepts(SchemaNode root, String text) {
    State s = JsonAutomaton.start(root);
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      s = JsonAutomaton.step(s, b & 0xFF);
      if (s == null) {
        return false;
      }
    }
    return JsonAutomaton.accepting(s);
  }

  @Test
  void acceptsObjectsThatFitTheSchema() {
    SchemaNode person = schema(PERSON);
    assertThat(accepts(person, "{\"name\":\"Ann\",\"age\":41,\"kind\":\"cat\"}")).isTrue();
    assertThat(accepts(person, "{\"name\": \"Bé\", \"age\": -7, \"tags\": [\"a\", \"\"], \"kind\": 3,"
        + " \"alive\": false, \"address\": {\"city\": null}}")).isTrue();
    assertThat(accepts(person, "{\"name\":\"a\\\"\\n\",\"age\":0,\"kind\":\"dog\",\"address\":{\"city\":\"Oslo\"}}")).isTrue();
  }

  @Test
  void rejectsObjectsThatBreakTheSchema() {
    SchemaNode person = schema(PERSON);
    assertThat(accepts(person, "{\"age\":41,\"kind\":\"cat\"}")).as("missing required name").isFalse();
    assertThat(accepts(person, "{\"name\":\"\",\"age\":41,\"kind\":\"cat\"}")).as("minLength").isFalse();
    assertThat(accepts(person, "{\"name\":\"abcdef\",\"age\":41,\"kind\":\"cat\"}")).as("maxLength").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":4.5,\"kind\":\"cat\"}")).as("integer").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":01,\"kind\":\"cat\"}")).as("leading zero").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"kind\":\"cow\"}")).as("enum").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"tags\":[],\"kind\":3}")).as("minItems").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"tags\":[\"x\",\"y\",\"z\"],\"kind\":3}")).as("maxItems").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"kind\":3,\"extra\":1}")).as("unknown property").isFalse();
    assertThat(accepts(person, "{\"age\":1,\"name\":\"a\",\"kind\":3}")).as("out of schema order").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"kind\":3}  ")).as("trailing space").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",  \"age\":1,\"kind\":3}")).as("two spaces").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\u0001\",\"age\":1,\"kind\":3}")).as("control character").isFalse();
    assertThat(accepts(person, "{\"name\":\"a\",\"age\":1,\"kind\":3")).as("unclosed").isFalse();
  }

  @Test
  void acceptsAnyObjectForJsonObject() {
    SchemaNode any = ResponseFormat.parse("{\"type\":\"json_object\"}").orElseThrow().root();
    assertThat(accepts(any, "{}")).isTrue();
    assertThat(accepts(any, "{\"a\": [1, 2.5e-3, true, null, {\"b\": \"c\"}], \"d\": {}}")).isTrue();
    assertThat(accepts(any, "[1]")).isFalse();
    assertThat(accepts(any, "{\"a\":}")).isFalse();
    assertThat(accepts(any, "{\"a\":1,}")).isFalse();
    assertThat(accepts(any, "{\"a\":[[[[[[[1]]]]]]]}")).as("nesting beyond the bound").isFalse();
  }

  @Test
  void numbersFollowJsonGrammar() {
    SchemaNode number = schema("{\"type\": \"number\"}");
    for (String ok : new String[] {"0", "-0", "12", "3.25", "-1e5", "1E+09", "0.5e-2"}) {
      assertThat(accepts(number, ok)).as(ok).isTrue();
    }
    for (String bad : new String[] {"", "-", "01", "1.", ".5", "1e", "+1", "1e123", "1234567890123456"}) {
      assertThat(accepts(number, bad)).as(bad).isFalse();
    }
  }

  @Test
  void stringsAreValidUtf8() {
    SchemaNode string = schema("{\"type\": \"string\", \"maxLength\": 3}");
    assertThat(accepts(string, "\"日本語\"")).as("three characters of three bytes").isTrue();
    assertThat(accepts(string, "\"日本語x\"")).isFalse();
    State s = JsonAutomaton.start(string);
    s = JsonAutomaton.step(s, '"');
    assertThat(JsonAutomaton.step(s, 0xC0)).as("overlong lead byte").isNull();
    assertThat(JsonAutomaton.step(JsonAutomaton.step(s, 0xED), 0xA0)).as("surrogate").isNull();
    assertThat(JsonAutomaton.step(s, 0x80)).as("lone continuation byte").isNull();
  }

  @Test
  void followingTheLowestDistanceClosesTheValueInThatManyBytes() {
    SchemaNode person = schema(PERSON);
    SchemaNode any = ResponseFormat.parse("{\"type\":\"json_object\"}").orElseThrow().root();
    Random random = new Random(7);
    for (SchemaNode root : new SchemaNode[] {person, any}) {
      for (int trial = 0; trial < 200; trial++) {
        State s = JsonAutomaton.start(root);
        for (int i = 0; i < random.nextInt(40); i++) { // a random prefix
          State next = JsonAutomaton.step(s, randomByte(random));
          if (next != null && !JsonAutomaton.accepting(next)) {
            s = next;
          }
        }
        int distance = JsonAutomaton.distance(s);
        for (int written = 0; written < distance; written++) {
          State best = null;
          for (int b = 0; b < 256; b++) {
            State next = JsonAutomaton.step(s, b);
            if (next != null && (best == null || JsonAutomaton.distance(next) < JsonAutomaton.distance(best))) {
              best = next;
            }
          }
          assertThat(JsonAutomaton.distance(best)).isEqualTo(distance - written - 1);
          s = best;
        }
        assertThat(JsonAutomaton.accepting(s)).isTrue();
      }
    }
  }

  private static int randomByte(Random random) {
    String likely = "{}[]\":, abc019-.etrufnl";
    return random.nextInt(4) == 0 ? random.nextInt(256) : likely.charAt(random.nextInt(likely.length()));
  }

  @Test
  void refusesUnsupportedKeywordsByName() {
    for (String keyword : new String[] {"pattern", "format", "$ref", "anyOf", "oneOf", "allOf", "minimum", "uniqueItems"}) {
      assertThatThrownBy(() -> schema("{\"type\": \"string\", \"" + keyword + "\": \"x\"}"))
          .isInstanceOf(UnsupportedSchemaException.class)
          .hasMessageContaining("'" + keyword + "'")
          .extracting(e -> ((UnsupportedSchemaException) e).keyword()).isEqualTo(keyword);
    }
    assertThatThrownBy(() -> schema("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"date\"}}}"))
        .hasMessageContaining("Unknown type 'date' at #/properties/a");
    assertThatThrownBy(() -> schema("{\"type\": \"object\", \"properties\": {}, \"required\": [\"a\"]}"))
        .hasMessageContaining("not among the properties");
    assertThatThrownBy(() -> ResponseFormat.parse("{\"type\": \"json_schema\"}")).hasMessageContaining("json_schema");
    assertThatThrownBy(() -> ResponseFormat.parse("{\"type\": \"xml\"}")).hasMessageContaining("'xml' is unknown");
    assertThatThrownBy(() -> ResponseFormat.parse("{\"type\": ")).hasMessageContaining("not valid JSON");
    assertThat(ResponseFormat.parse("{\"type\": \"text\"}")).isEmpty();
  }
}
