package io.moeflink.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;

/** Counts a corpus's records up front, for the progress bar's total. */
public final class CorpusSize {
  private CorpusSize() {}

  /** Records in a file, a directory's files, or a glob's matches (JSONL lines or Avro records). */
  public static long count(String location) throws IOException {
    long n = 0;
    for (Path file : files(location)) {
      n += file.toString().endsWith(".avro") ? avroRecords(file) : lines(file);
    }
    return n;
  }

  static List<Path> files(String location) throws IOException {
    List<Path> out = new ArrayList<>();
    if (location.chars().anyMatch(c -> "*?[{".indexOf(c) >= 0)) {
      Path base = Path.of(location).getParent();
      PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + location);
      try (Stream<Path> s = Files.walk(base == null ? Path.of(".") : base)) {
        s.filter(Files::isRegularFile).filter(matcher::matches).forEach(out::add);
      }
    } else if (Files.isDirectory(Path.of(location))) {
      try (Stream<Path> s = Files.walk(Path.of(location))) {
        s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).forEach(out::add);
      }
    } else {
      out.add(Path.of(location));
    }
    return out;
  }

  private static long lines(Path file) throws IOException {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return r.lines().filter(l -> !l.isBlank()).count();
    } catch (java.io.UncheckedIOException malformed) {
      return 0; // not text: the job turns it into dead letters, the bar just has no total for it
    }
  }

  private static long avroRecords(Path file) throws IOException {
    long n = 0;
    try (DataFileReader<GenericRecord> r = new DataFileReader<>(file.toFile(), new GenericDatumReader<>())) {
      while (r.hasNext()) {
        r.next();
        n++;
      }
    } catch (IOException corrupt) {
      return n;
    }
    return n;
  }
}
