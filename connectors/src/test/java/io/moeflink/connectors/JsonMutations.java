package io.moeflink.connectors;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Request lines for fuzzing, from a seeded {@link Random}: valid requests of every shape (our JSON
 * with a prompt, messages or token ids and sampling values; OpenAI batch lines), then one mutation:
 * a value replaced by a random JSON value of any type, a key dropped or repeated, the line cut,
 * bytes inserted (invalid UTF-8 among them), deep nesting, or plain random bytes.
 */
final class JsonMutations {

  private static final String[] KEYS = {"id", "prompt", "messages", "prompt_token_ids", "sampling", "model",
      "priority", "tenant", "metadata", "temperature", "top_p", "top_k", "max_tokens", "seed", "stop",
      "stop_token_ids", "custom_id", "method", "url", "body", "role", "content"};

  private JsonMutations() {}

  static byte[] line(Random random) {
    String valid = switch (random.nextInt(4)) {
      case 0 -> "{\"id\":\"a\",\"prompt\":" + quote(text(random)) + ",\"sampling\":" + sampling(random) + "}";
      case 1 -> "{\"id\":\"b\",\"messages\":[{\"role\":\"system\",\"content\":" + quote(text(random))
          + "},{\"role\":\"user\",\"content\":" + quote(text(random)) + "}],\"model\":\"m\",\"priority\":3}";
      case 2 -> "{\"id\":\"c\",\"prompt_token_ids\":[0," + random.nextInt(1000) + ",7],\"max_tokens\":4,\"metadata\":{\"k\":\"v\"}}";
      default -> "{\"custom_id\":\"q\",\"method\":\"POST\",\"url\":\"" + (random.nextBoolean() ? "/v1/chat/completions" : "/v1/completions")
          + "\",\"body\":{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":" + quote(text(random))
          + "}],\"prompt\":" + quote(text(random)) + ",\"max_tokens\":" + (random.nextInt(40) - 5) + "}}";
    };
    return mutate(valid, random);
  }

  private static byte[] mutate(String valid, Random random) {
    switch (random.nextInt(9)) {
      case 0 -> { // a value of a known key becomes anything
        String key = KEYS[random.nextInt(KEYS.length)];
        int at = valid.indexOf("\"" + key + "\":");
        if (at >= 0) {
          int start = at + key.length() + 3;
          int end = valueEnd(valid, start);
          return utf8(valid.substring(0, start) + value(random, 0) + valid.substring(end));
        }
        return utf8(valid);
      }
      case 1 -> { // an extra key (possibly repeated) of any value
        String key = KEYS[random.nextInt(KEYS.length)];
        return utf8("{\"" + key + "\":" + value(random, 0) + "," + valid.substring(1));
      }
      case 2 -> { // cut anywhere
        byte[] bytes = utf8(valid);
        return java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
      }
      case 3 -> { // random bytes inserted
        byte[] bytes = utf8(valid);
        byte[] noise = new byte[1 + random.nextInt(6)];
        random.nextBytes(noise);
        int at = random.nextInt(bytes.length + 1);
        byte[] out = new byte[bytes.length + noise.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(noise, 0, out, at, noise.length);
        System.arraycopy(bytes, at, out, at + noise.length, bytes.length - at);
        return out;
      }
      case 4 -> { // deep nesting in a field
        int depth = 1 + random.nextInt(5000);
        String nested = "[".repeat(depth) + "1" + "]".repeat(random.nextInt(4) == 0 ? depth / 2 : depth);
        return utf8(valid.replaceFirst("\"model\":\"[^\"]*\"", "\"model\":" + java.util.regex.Matcher.quoteReplacement(nested))
            .replaceFirst("^\\{", "{\"metadata\":" + java.util.regex.Matcher.quoteReplacement(nested) + ","));
      }
      case 5 -> { // a random JSON document altogether
        return utf8(value(random, 0));
      }
      case 6 -> { // random bytes
        byte[] bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        return bytes;
      }
      case 7 -> { // numbers at their edges
        String[] edges = {"1e400", "-1e400", "NaN", "Infinity", "-0", "9223372036854775808", "2147483648",
            "-2147483649", "0.0000001", "1.5", "1e-400", "00", "-", "0x10"};
        String edge = edges[random.nextInt(edges.length)];
        return utf8(valid.replaceFirst("(\"(max_tokens|temperature|top_p|top_k|seed|priority)\":)[^,}]*", "$1" + edge)
            .replaceFirst("\\[0,", "[" + edge + ","));
      }
      default -> {
        return utf8(valid);
      }
    }
  }

  private static String sampling(Random random) {
    return "{\"temperature\":" + random.nextInt(3) + ".5,\"top_p\":0.9,\"top_k\":" + random.nextInt(50)
        + ",\"max_tokens\":" + (1 + random.nextInt(64)) + ",\"seed\":" + random.nextLong()
        + ",\"stop\":[" + quote(text(random)) + "],\"stop_token_ids\":[1,2]}";
  }

  /** Where the JSON value starting at {@code start} ends (good enough for the values written above). */
  private static int valueEnd(String json, int start) {
    int depth = 0;
    boolean inString = false;
    for (int i = start; i < json.length(); i++) {
      char c = json.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
          if (depth == 0) {
            return i + 1;
          }
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          return i;
        }
        depth--;
        if (depth == 0) {
          return i + 1;
        }
      } else if (c == ',' && depth == 0) {
        return i;
      }
    }
    return json.length();
  }

  private static String value(Random random, int depth) {
    int kind = random.nextInt(depth > 3 ? 6 : 8);
    return switch (kind) {
      case 0 -> "null";
      case 1 -> Boolean.toString(random.nextBoolean());
      case 2 -> Long.toString(random.nextLong() >> random.nextInt(64));
      case 3 -> Double.toString((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(40) - 20));
      case 4, 5 -> quote(text(random));
      case 6 -> {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0, n = random.nextInt(5); i < n; i++) {
          sb.append(i > 0 ? "," : "").append(value(random, depth + 1));
        }
        yield sb.append(']').toString();
      }
      default -> {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0, n = random.nextInt(5); i < n; i++) {
          sb.append(i > 0 ? "," : "").append(quote(KEYS[random.nextInt(KEYS.length)])).append(':').append(value(random, depth + 1));
        }
        yield sb.append('}').toString();
      }
    };
  }

  /** Text of every kind: empty, ASCII, other scripts, emoji, control characters, lone surrogates. */
  static String text(Random random) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0, n = random.nextInt(random.nextInt(4) == 0 ? 400 : 20); i < n; i++) {
      switch (random.nextInt(6)) {
        case 0 -> sb.append((char) (' ' + random.nextInt(95)));
        case 1 -> sb.append("你好😀ü\u0301");
        case 2 -> sb.append((char) random.nextInt(32));
        case 3 -> sb.append((char) (0xD800 + random.nextInt(0x800))); // lone surrogates
        case 4 -> sb.appendCodePoint(random.nextInt(0x10FFFF));
        default -> sb.append("\"\\/");
      }
    }
    return sb.toString();
  }

  private static String quote(String text) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
