package io.moeflink.engine.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

/** One golden checkpoint of the test resources and its {@code golden.json}. */
public record GoldenFixture(Path dir, JsonNode golden) {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  /** {@code variant} is {@code bf16} or {@code fp8}. */
  public static GoldenFixture load(String variant) {
    try {
      Path dir = Path.of(Objects.requireNonNull(
          GoldenFixture.class.getResource("/golden/tiny-v3/" + variant + "/config.json"), "golden fixture " + variant)
          .toURI()).getParent();
      return new GoldenFixture(dir, JSON.readTree(dir.resolve("golden.json").toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses float32 values written as their shortest decimal form, exactly. */
  public static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.parseFloat(array.get(i).decimalValue().toString());
    }
    return out;
  }

  public static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
