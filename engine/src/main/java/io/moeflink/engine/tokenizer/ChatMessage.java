package io.moeflink.engine.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation as chat templates see it: {@code {"role": ..., "content": ...}}.
 *
 * @param role who speaks, e.g. {@code system}, {@code user}, {@code assistant}, {@code tool}; the
 *     template decides which roles it knows
 * @param content the text of the turn, verbatim (template syntax in it is not interpreted)
 */
public record ChatMessage(String role, String content) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (role.isBlank()) {
      throw new IllegalArgumentException("ChatMessage role must not be blank");
    }
  }

  /** The message as the template's {@code messages} list holds it: a map with role and content. */
  Map<String, Object> toTemplateValue() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("role", role);
    value.put("content", content);
    return value;
  }
}
