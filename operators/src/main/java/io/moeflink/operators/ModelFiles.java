package io.moeflink.operators;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.structured.StructuredOutput;
import io.moeflink.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;

/**
 * A model directory's {@code config.json} and tokenizer, read once per subtask and shared by the
 * operators of that subtask (admission and generation, chained in one task): both are immutable
 * and thread-safe. Acquired in {@code open()}, released in {@code close()}; the last release
 * drops them. The key holds the job, the attempt and the subtask index, so a restarted task never
 * sees its predecessor's, and nothing outlives the job (the map lives in the job's class loader).
 */
public final class ModelFiles {
  private static final Map<Key, ModelFiles> OPEN = new HashMap<>();

  private final Key key;
  private final ModelConfig config;
  private final Tokenizer tokenizer; // null when the directory has none
  /** Compiled response formats, shared by admission (which checks them) and generation. */
  private final StructuredOutput structuredOutput;
  private int users;

  private record Key(String job, int attempt, int subtask, Path dir) {}

  private ModelFiles(Key key, ModelConfig config, Tokenizer tokenizer) {
    this.key = key;
    this.config = config;
    this.tokenizer = tokenizer;
    this.structuredOutput = new StructuredOutput(tokenizer);
  }

  /** The files of {@code dir} for this subtask, read on the first acquire. */
  public static ModelFiles acquire(RuntimeContext context, Path dir) {
    return acquire(context.getJobInfo().getJobId().toString(), context.getTaskInfo().getAttemptNumber(),
        context.getTaskInfo().getIndexOfThisSubtask(), dir);
  }

  static ModelFiles acquire(String job, int attempt, int subtask, Path dir) {
    Key key = new Key(job, attempt, subtask, dir.toAbsolutePath().normalize());
    synchronized (OPEN) {
      ModelFiles files = OPEN.get(key);
      if (files == null) {
        files = new ModelFiles(key, read(dir), tokenizer(dir));
        OPEN.put(key, files);
      }
      files.users++;
      return files;
    }
  }

  private static ModelConfig read(Path dir) {
    try {
      return ModelConfig.load(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the model's config.json in " + dir, e);
    }
  }

  private static Tokenizer tokenizer(Path dir) {
    try {
      return Tokenizer.isPresentIn(dir) ? Tokenizer.load(dir) : null;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the tokenizer in " + dir, e);
    }
  }

  public ModelConfig config() {
    return config;
  }

  /** The tokenizer, or null when the model directory has no tokenizer file. */
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The response-format automata of this model's vocabulary, compiled once per subtask. */
  public StructuredOutput structuredOutput() {
    return structuredOutput;
  }

  /** Ends one operator's use; the last one drops the files. */
  public void release() {
    synchronized (OPEN) {
      if (--users == 0) {
        OPEN.remove(key);
      }
    }
  }

  /** Subtasks with files open (tests). */
  static int openCount() {
    synchronized (OPEN) {
      return OPEN.size();
    }
  }
}
