package io.moeflink.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * The DeepSeek-V3 tokenizer files shipped inside the engine jar (gzip-compressed, 1/4 of the
 * size), so that generated demo models speak real text without a download.
 */
public final class BundledTokenizer {

  private static final String RESOURCE_DIR = "deepseek-v3/";

  private BundledTokenizer() {}

  /**
   * Writes {@code tokenizer.json} and {@code tokenizer_config.json} of DeepSeek-V3 into {@code
   * dir}, creating it if needed and replacing files of those names.
   *
   * @return the files written
   */
  public static java.util.List<Path> writeTo(Path dir) throws IOException {
    Files.createDirectories(dir);
    try (InputStream gz = open(Tokenizer.TOKENIZER_FILE + ".gz");
        InputStream json = new GZIPInputStream(gz)) {
      Files.copy(json, dir.resolve(Tokenizer.TOKENIZER_FILE), StandardCopyOption.REPLACE_EXISTING);
    }
    try (InputStream config = open(TokenizerConfig.FILE_NAME)) {
      Files.copy(
          config, dir.resolve(TokenizerConfig.FILE_NAME), StandardCopyOption.REPLACE_EXISTING);
    }
    return java.util.List.of(dir.resolve(Tokenizer.TOKENIZER_FILE), dir.resolve(TokenizerConfig.FILE_NAME));
  }

  private static InputStream open(String name) {
    InputStream in = BundledTokenizer.class.getResourceAsStream(RESOURCE_DIR + name);
    if (in == null) {
      throw new UncheckedIOException(
          new IOException(
              "Resource "
                  + RESOURCE_DIR
                  + name
                  + " is missing next to "
                  + BundledTokenizer.class.getName()
                  + "; the engine jar is incomplete"));
    }
    return in;
  }
}
