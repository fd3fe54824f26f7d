package io.moeflink.connectors.files;

import io.moeflink.connectors.RawRecord;
import io.moeflink.connectors.RecordFormat;
import io.moeflink.connectors.RequestDecoder;
import io.moeflink.connectors.ValueEncoder;
import io.moeflink.schemas.Completion;
import io.moeflink.schemas.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.avro.AvroWriters;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

/**
 * Corpus files in and out: a bounded {@link FileSource} of requests and {@link FileSink}s of
 * completions and dead letters.
 *
 * <p>The source takes files, directories (read recursively; names starting with {@code .} or
 * {@code _} are skipped) and local globs such as {@code data/part-*.jsonl}. Each file is one
 * split, so a corpus spread over several files is read in parallel; a single file is read by one
 * reader. Sinks write part files into one directory and roll them on every checkpoint; a part
 * file becomes visible (loses its leading dot and {@code .inprogress}) only when the checkpoint
 * that covers it completes, so a failed run never leaves half-counted output.
 *
 * <pre>{@code
 * FileSource<RawRecord> corpus = CorpusFiles.source(CorpusFormat.JSONL, decoder, "corpus/*.jsonl");
 * FileSink<Completion> out = CorpusFiles.completionSink("out", CompletionFileFormat.OPENAI_BATCH);
 * }</pre>
 */
public final class CorpusFiles {

  private static final String GLOB_CHARACTERS = "*?[{";

  private CorpusFiles() {}

  /** The decoder for a corpus format: JSON for JSONL, Avro for Avro container files. */
  public static RequestDecoder.Builder decoder(CorpusFormat format) {
    return RequestDecoder.builder()
        .format(format == CorpusFormat.AVRO ? RecordFormat.AVRO : RecordFormat.JSON);
  }

  /**
   * A bounded source of the corpus at {@code locations}. The decoder's {@code maxRecordBytes}
   * caps how much of an over-long line is held in memory.
   */
  public static FileSource<RawRecord> source(
      CorpusFormat format, RequestDecoder decoder, String... locations) {
    Path[] paths = resolve(locations);
    SequentialFileFormat files =
        format == CorpusFormat.AVRO
            ? new AvroFileFormat()
            : new JsonLinesFormat(decoder.maxRecordBytes());
    return FileSource.forBulkFileFormat(files, paths).build();
  }

  /** Completions as part files named {@code completions-*} in {@code directory}. */
  public static FileSink<Completion> completionSink(String directory, CompletionFileFormat format) {
    Path path = new Path(directory);
    if (format == CompletionFileFormat.AVRO) {
      return FileSink.forBulkFormat(path, AvroWriters.forSpecificRecord(Completion.class))
          .withBucketAssigner(new BasePathBucketAssigner<>())
          .withOutputFileConfig(parts("completions", ".avro"))
          .build();
    }
    ValueEncoder<Completion> encoder =
        format == CompletionFileFormat.OPENAI_BATCH
            ? ValueEncoder.openAiBatchOutput()
            : ValueEncoder.completions(RecordFormat.JSON);
    return lines(path, encoder, "completions");
  }

  /** Dead letters as JSON lines named {@code dead-letters-*} in {@code directory}. */
  public static FileSink<DeadLetter> deadLetterSink(String directory) {
    return lines(new Path(directory), ValueEncoder.deadLetters(RecordFormat.JSON), "dead-letters");
  }

  private static <T> FileSink<T> lines(Path path, ValueEncoder<T> encoder, String prefix) {
    return FileSink.forRowFormat(path, new LineEncoder<>(encoder))
        .withBucketAssigner(new BasePathBucketAssigner<>())
        .withRollingPolicy(OnCheckpointRollingPolicy.build())
        .withOutputFileConfig(parts(prefix, ".jsonl"))
        .build();
  }

  private static OutputFileConfig parts(String prefix, String suffix) {
    return OutputFileConfig.builder().withPartPrefix(prefix).withPartSuffix(suffix).build();
  }

  /** Files and directories as given; local globs expanded, sorted. */
  static Path[] resolve(String... locations) {
    if (locations.length == 0) {
      throw new IllegalArgumentException("No corpus given; pass a file, a directory or a glob");
    }
    List<Path> paths = new ArrayList<>();
    for (String location : locations) {
      if (location.chars().anyMatch(c -> GLOB_CHARACTERS.indexOf(c) >= 0)) {
        List<Path> matches = expandGlob(location);
        if (matches.isEmpty()) {
          throw new IllegalArgumentException("No file matches " + location);
        }
        paths.addAll(matches);
      } else {
        paths.add(new Path(location));
      }
    }
    return paths.toArray(Path[]::new);
  }

  private static List<Path> expandGlob(String glob) {
    java.nio.file.Path pattern = Paths.get(glob).toAbsolutePath().normalize();
    java.nio.file.Path root = pattern.getRoot();
    for (java.nio.file.Path part : pattern) {
      if (part.toString().chars().anyMatch(c -> GLOB_CHARACTERS.indexOf(c) >= 0)) {
        break;
      }
      root = root.resolve(part);
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<java.nio.file.Path> files = Files.walk(root)) {
      return files
          .filter(Files::isRegularFile)
          .filter(matcher::matches)
          .sorted()
          .map(file -> new Path(file.toUri()))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list files for " + glob, e);
    }
  }
}
