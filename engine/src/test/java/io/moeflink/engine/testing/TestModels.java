package io.moeflink.engine.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Puts test models on disk for tests in other modules, where the engine's test resources sit
 * inside a jar: the golden checkpoints are copied out of the classpath.
 */
public final class TestModels {
  private static final List<String> GOLDEN_FILES = List.of(
      "config.json", "golden.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors");

  private TestModels() {}

  /** Copies the golden checkpoint {@code variant} ({@code bf16} or {@code fp8}) into {@code dir}. */
  public static Path golden(String variant, Path dir) {
    try {
      Files.createDirectories(dir);
      for (String name : GOLDEN_FILES) {
        try (InputStream in = TestModels.class.getResourceAsStream("/golden/tiny-v3/" + variant + "/" + name)) {
          if (in == null) {
            throw new IOException("Golden fixture file " + variant + "/" + name + " is not on the classpath");
          }
          Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
