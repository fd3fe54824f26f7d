package io.moeflink.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Earlier versions of the contracts, shipped as resources under {@code io/moeflink/schemas/history}.
 *
 * <p>Avro single-object encoding names the writer schema only by its 64-bit fingerprint, so a
 * reader can resolve an old record only if it knows the old schema. Every decoder of Kafka values
 * registers these, which lets producers upgrade later than consumers.
 */
public final class SchemaHistory {

  private static final String DIRECTORY = "/io/moeflink/schemas/history/";

  private SchemaHistory() {}

  /** Every earlier schema listed in the history {@code INDEX}, oldest first. */
  public static List<Schema> olderVersions() {
    List<Schema> schemas = new ArrayList<>();
    for (String file : indexEntries()) {
      try (InputStream in = SchemaHistory.class.getResourceAsStream(DIRECTORY + file)) {
        if (in == null) {
          throw new IllegalStateException(
              "Schema history lists " + file + " but " + DIRECTORY + file + " is not on the"
                  + " classpath; add the file or remove the line from " + DIRECTORY + "INDEX");
        }
        schemas.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read schema history file " + file, e);
      }
    }
    return schemas;
  }

  private static List<String> indexEntries() {
    List<String> files = new ArrayList<>();
    InputStream index = SchemaHistory.class.getResourceAsStream(DIRECTORY + "INDEX");
    if (index == null) {
      return files;
    }
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String entry = line.strip();
        if (!entry.isEmpty() && !entry.startsWith("#")) {
          files.add(entry);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + DIRECTORY + "INDEX", e);
    }
    return files;
  }
}
