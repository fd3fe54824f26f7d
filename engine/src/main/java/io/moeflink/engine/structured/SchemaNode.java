package io.moeflink.engine.structured;

import java.util.List;

/**
 * The part of a JSON schema that constrained decoding enforces: one node per kind of value. Each
 * knows the fewest bytes a value of it can take, which bounds how soon a generation can close.
 */
sealed interface SchemaNode {

  /** The length in bytes of the shortest value this node accepts. */
  int minLength();

  /**
   * A string of {@code minLength} to {@code maxLength} characters (code points).
   *
   * @param maxLength the most characters, or -1 for no limit
   */
  record StringNode(int minLength, int maxLength) implements SchemaNode {
    @Override
    public int minLength() {
      return 2 + minLength; // the quotes and one ASCII byte per character
    }

    /** Characters counted beyond this many change nothing, so the count stops there. */
    int countCap() {
      return Math.max(minLength, maxLength);
    }

    int minChars() {
      return minLength;
    }
  }

  /** A JSON number; with {@code integer}, without fraction or exponent. */
  record NumberNode(boolean integer) implements SchemaNode {
    @Override
    public int minLength() {
      return 1;
    }
  }

  /**
   * One of a fixed set of values (an enum, a const, a boolean, null), each as its compact JSON
   * text in UTF-8 bytes, one byte per char.
   */
  record LiteralNode(List<String> literals) implements SchemaNode {
    @Override
    public int minLength() {
      return literals.stream().mapToInt(String::length).min().orElseThrow();
    }
  }

  /**
   * An object that writes its properties in the schema's order, each required one always, each
   * optional one or not; no other property.
   */
  record ObjectNode(List<Property> properties) implements SchemaNode {
    @Override
    public int minLength() {
      return tail(0) + 1 - (hasRequiredFrom(0) ? 1 : 0); // no comma before the first
    }

    /**
     * Bytes to write the required properties from index {@code from} on (each with its comma),
     * then the closing brace.
     */
    int tail(int from) {
      int n = 1;
      for (int i = from; i < properties.size(); i++) {
        Property p = properties.get(i);
        if (p.required()) {
          n += 1 + p.key().length() + 1 + p.value().minLength();
        }
      }
      return n;
    }

    boolean hasRequiredFrom(int from) {
      for (int i = from; i < properties.size(); i++) {
        if (properties.get(i).required()) {
          return true;
        }
      }
      return false;
    }

    /** The last property that may come next after {@code from}: the first required one, or the last. */
    int lastCandidate(int from) {
      for (int i = from; i < properties.size(); i++) {
        if (properties.get(i).required()) {
          return i;
        }
      }
      return properties.size() - 1;
    }
  }

  /**
   * A property of an object.
   *
   * @param key the property name as its JSON string, quotes included, in UTF-8 bytes one per char
   */
  record Property(String key, SchemaNode value, boolean required) {}

  /**
   * An array of {@code minItems} to {@code maxItems} items.
   *
   * @param maxItems the most items, or -1 for no limit
   */
  record ArrayNode(SchemaNode items, int minItems, int maxItems) implements SchemaNode {
    @Override
    public int minLength() {
      return minItems == 0 ? 2 : 2 + minItems * items.minLength() + (minItems - 1);
    }

    int countCap() {
      return Math.max(minItems, maxItems);
    }
  }

  /** One of several types ({@code "type": [...]}): the first byte picks the first that takes it. */
  record UnionNode(List<SchemaNode> options) implements SchemaNode {
    @Override
    public int minLength() {
      return options.stream().mapToInt(SchemaNode::minLength).min().orElseThrow();
    }
  }

  /** Any JSON value, nested at most {@code depthLeft} more arrays or objects deep. */
  record AnyNode(int depthLeft) implements SchemaNode {
    @Override
    public int minLength() {
      return 1; // 0
    }
  }

  /** Any JSON object, whose values nest at most {@code depthLeft} more levels deep. */
  record AnyObjectNode(int depthLeft) implements SchemaNode {
    @Override
    public int minLength() {
      return 2; // {}
    }
  }
}
