package io.moeflink.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moeflink.connectors.files.CompletionFileFormat;
import io.moeflink.schemas.Completion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * What a corpus output directory already holds: the completion part files committed by earlier
 * runs (in-progress files are hidden until their checkpoint commits them), the request ids in
 * them, and whether a run into it finished (a marker written after the job ends). This is what
 * makes re-runs safe: a new run into a directory with completions refuses, {@code --resume} skips
 * the ids already committed, and {@code --resume} of a finished run writes nothing.
 *
 * @param completionFiles committed completion part files
 * @param committedIds request ids of the committed completions
 * @param committedRecords completions and dead letters committed (for progress)
 * @param finished whether a run into the directory ended successfully
 */
public record CorpusOutput(int completionFiles, Set<String> committedIds, long committedRecords, boolean finished) {

  /** The marker a finished run leaves; not a part file, so nothing reads it as output. */
  public static final String FINISHED_MARKER = "_moe-flink-run-finished.json";
  private static final String COMPLETION_PREFIX = "completions";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads {@code output} (a path or URI; absent means empty) with completions in {@code format}. */
  public static CorpusOutput inspect(String output, String deadLetters, CompletionFileFormat format) throws IOException {
    Path dir = new Path(InferencePipeline.asUri(output));
    FileSystem fs = dir.getFileSystem();
    if (!fs.exists(dir)) {
      return new CorpusOutput(0, Set.of(), 0, false);
    }
    boolean finished = fs.exists(new Path(dir, FINISHED_MARKER));
    Set<String> ids = new HashSet<>();
    int files = 0;
    long records = 0;
    for (FileStatus file : list(fs, dir)) {
      if (!file.isDir() && file.getPath().getName().startsWith(COMPLETION_PREFIX)) {
        files++;
        records += readIds(fs, file.getPath(), format, ids);
      }
    }
    Path deadLetterDir = new Path(InferencePipeline.asUri(deadLetters));
    if (fs.exists(deadLetterDir)) {
      for (FileStatus file : list(fs, deadLetterDir)) {
        if (!file.isDir() && !file.getPath().getName().startsWith(".")) {
          records += countLines(fs, file.getPath());
        }
      }
    }
    return new CorpusOutput(files, Set.copyOf(ids), records, finished);
  }

  /** Leaves the marker of a finished run in {@code output}. */
  public static void markFinished(String output, long records, String input) throws IOException {
    Path marker = new Path(new Path(InferencePipeline.asUri(output)), FINISHED_MARKER);
    try (OutputStream out = marker.getFileSystem().create(marker, FileSystem.WriteMode.OVERWRITE)) {
      out.write(JSON.writeValueAsBytes(JSON.createObjectNode().put("input", input).put("records", records)));
    }
  }

  private static FileStatus[] list(FileSystem fs, Path dir) throws IOException {
    FileStatus[] files = fs.listStatus(dir);
    return files == null ? new FileStatus[0] : files;
  }

  private static long readIds(FileSystem fs, Path file, CompletionFileFormat format, Set<String> ids) throws IOException {
    long n = 0;
    try (InputStream in = fs.open(file)) {
      if (format == CompletionFileFormat.AVRO) {
        try (DataFileStream<Completion> completions = new DataFileStream<>(in, new SpecificDatumReader<>(Completion.class))) {
          for (Completion c : completions) {
            ids.add(c.getId());
            n++;
          }
        }
        return n;
      }
      String key = format == CompletionFileFormat.OPENAI_BATCH ? "custom_id" : "id";
      BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode id = JSON.readTree(line).get(key);
        if (id == null || !id.isTextual()) {
          throw new IOException(file + " holds a line without \"" + key + "\"; was the earlier run written with another --format?");
        }
        ids.add(id.textValue());
        n++;
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return n;
  }

  private static long countLines(FileSystem fs, Path file) throws IOException {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
      return lines.lines().filter(l -> !l.isBlank()).count();
    }
  }
}
