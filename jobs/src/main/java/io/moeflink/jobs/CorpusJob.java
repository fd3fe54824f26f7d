package io.moeflink.jobs;

import io.moeflink.connectors.Contracts;
import io.moeflink.connectors.RawRecord;
import io.moeflink.connectors.RequestDecoder;
import io.moeflink.connectors.files.CompletionFileFormat;
import io.moeflink.connectors.files.CorpusFiles;
import io.moeflink.connectors.files.CorpusFormat;
import io.moeflink.operators.routing.RequestRouting;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The corpus job: request files (JSONL, ours or OpenAI batch, or Avro) -> the inference pipeline
 * -> completion part files and dead letters. Bounded: it ends by itself. Submit it with {@code
 * flink run -c io.moeflink.jobs.CorpusJob jobs/target/moe-flink-job.jar --input ... --output ...
 * --model ...}, or run it locally with progress and resume with {@code bin/moe-flink corpus}.
 */
public final class CorpusJob {
  private CorpusJob() {}

  public static void main(String[] args) throws Exception {
    CorpusJobOptions options = new CorpusJobOptions();
    if (!JobArguments.parse(options, args)) {
      return;
    }
    CorpusOutput existing = checkOutput(options);
    if (options.resume && existing.finished()) {
      System.err.println("The run into " + options.output + " already finished; nothing to do");
      return;
    }
    StreamExecutionEnvironment env = JobArguments.environment(options.generation);
    build(env, options, "corpus");
    env.execute("moe-flink corpus " + options.input);
    CorpusOutput.markFinished(options.output, CorpusOutput.inspect(options.output, deadLetterDirectory(options),
        outputFormat(options.format)).committedRecords(), options.input);
  }

  /** Adds the job to {@code env}; {@code runId} names its progress on the {@link ProgressBoard}. */
  public static void build(StreamExecutionEnvironment env, CorpusJobOptions o, String runId) {
    CorpusFormat input = inputFormat(o.input);
    RequestDecoder decoder = CorpusFiles.decoder(input).build();
    // The source runs with the generation's parallelism so that it chains into it: a generation
    // subtask then takes records straight from the reader, with no network buffers between them
    // in which requests (and the checkpoint barriers behind them) would queue under back-pressure.
    DataStream<RawRecord> raw = env.fromSource(CorpusFiles.source(input, decoder, o.input), WatermarkStrategy.noWatermarks(), "corpus: " + o.input)
        .uid("corpus-source");
    String deadLetters = deadLetterDirectory(o);
    SkipCommitted skip = new SkipCommitted(o.resume, o.output, deadLetters, outputFormat(o.format));
    // forward by default: one file = one split = one subtask, read, admitted and generated in one
    // chain; --routing prefix spreads a file's requests over the subtasks by prefix instead
    if (o.generation.routing == null || o.generation.routing == RequestRouting.FORWARD) {
      // The chained reader must stay open until the file's last requests are in flight: once a
      // bounded input has ended no checkpoint completes, so the completions generated after that
      // would be committed only at the very end (and redone by --resume after a crash). One
      // waiting request keeps the reader back-pressured, as before there was a waiting queue.
      o.generation.maxWaiting = 1;
    }
    InferencePipeline.Outputs out = InferencePipeline.build(raw, decoder, o.generation,
        requests -> requests.filter(skip).name("skip committed").uid("skip-committed"), RequestRouting.FORWARD);
    out.completions().map(new CountProgress<>(runId), Contracts.completions()).name("progress").uid("completion-progress")
        .sinkTo(CorpusFiles.completionSink(o.output, outputFormat(o.format))).name("completion files").uid("completion-files");
    out.deadLetters().map(new CountProgress<>(runId), Contracts.deadLetters()).name("dead-letter progress").uid("dead-letter-progress")
        .sinkTo(CorpusFiles.deadLetterSink(deadLetters)).name("dead-letter files").uid("dead-letter-files");
  }

  /**
   * Avro when {@code input} names Avro files: a file or glob ending in {@code .avro}, or a local
   * directory whose files all do; JSONL otherwise. A directory mixing the two is a usage error.
   */
  static CorpusFormat inputFormat(String input) {
    if (input.endsWith(".avro")) {
      return CorpusFormat.AVRO;
    }
    if (input.contains("://") || !Files.isDirectory(Path.of(input))) {
      return CorpusFormat.JSONL;
    }
    List<Path> files;
    try {
      files = CorpusSize.files(input);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long avro = files.stream().filter(f -> f.getFileName().toString().endsWith(".avro")).count();
    if (avro > 0 && avro < files.size()) {
      throw new UsageException(input + " holds both .avro and other files; give a glob such as " + input + "/*.avro");
    }
    return avro > 0 ? CorpusFormat.AVRO : CorpusFormat.JSONL;
  }

  /** {@code --dead-letters}, or {@code OUTPUT/dead-letters}. */
  public static String deadLetterDirectory(CorpusJobOptions o) {
    return o.deadLetters != null ? o.deadLetters : o.output + "/dead-letters";
  }

  /**
   * What the output directory holds decides whether the run may start: completions of another
   * run refuse a fresh run; with {@code --resume} the committed ids are skipped.
   *
   * @return what the directory holds
   * @throws UsageException when the directory holds completions and {@code --resume} is not given
   */
  public static CorpusOutput checkOutput(CorpusJobOptions o) throws java.io.IOException {
    CorpusOutput existing = CorpusOutput.inspect(o.output, deadLetterDirectory(o), outputFormat(o.format));
    if (!o.resume && (existing.completionFiles() > 0 || existing.finished())) {
      throw new UsageException("--output " + o.output + " already holds " + existing.committedIds().size()
          + " completions of another run" + (existing.finished() ? " (finished)" : "")
          + "; give a new or empty directory, or add --resume --checkpoint-dir DIR to answer only the requests not answered there");
    }
    return existing;
  }

  static CompletionFileFormat outputFormat(String format) {
    return switch (format.toLowerCase(Locale.ROOT)) {
      case "ours", "jsonl" -> CompletionFileFormat.JSONL;
      case "openai-batch", "openai" -> CompletionFileFormat.OPENAI_BATCH;
      case "avro" -> CompletionFileFormat.AVRO;
      default -> throw new IllegalArgumentException("--format is " + format + ", expected ours, openai-batch or avro");
    };
  }
}
