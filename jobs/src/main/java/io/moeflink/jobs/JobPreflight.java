package io.moeflink.jobs;

import io.moeflink.connectors.RecordFormat;
import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.generate.Speculation;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.cuda.CudaAvailability;
import io.moeflink.engine.moe.ExpertPlacement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The checks a job's options pass before anything starts, so that a mistake ends in one line that
 * says what to do instead of a failed job: the model directory, the backend, the counts, the
 * expert placement (parsed against the model's config), the request format, the corpus input and
 * output format.
 */
public final class JobPreflight {

  private static final Set<String> CORPUS_FORMATS = Set.of("ours", "openai-batch", "avro");

  private JobPreflight() {}

  /**
   * The model directory given with {@code option}: it exists and holds a {@code config.json} that
   * the engine reads.
   *
   * @throws UsageException saying what is missing
   * @throws IOException if {@code config.json} is not a checkpoint config this engine reads (its
   *     message names the key)
   */
  public static ModelConfig modelDirectory(String option, Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new UsageException(option + " " + dir + ": no such directory; give a checkpoint directory"
          + " (config.json and *.safetensors), e.g. one written by: moe-flink make-model --out " + dir);
    }
    if (!Files.isDirectory(dir)) {
      throw new UsageException(option + " " + dir + " is a file; give the checkpoint directory that holds config.json");
    }
    if (!Files.isRegularFile(dir.resolve("config.json"))) {
      throw new UsageException(option + " " + dir + " has no config.json; give a Hugging Face checkpoint"
          + " directory (config.json, *.safetensors, tokenizer.json)");
    }
    return ModelConfig.load(dir);
  }

  /** The options both jobs share. */
  public static void generation(GenerationOptions g) throws IOException {
    ModelConfig config = modelDirectory("--model", Path.of(g.model));
    atLeastOne("--parallelism", g.parallelism);
    atLeastOne("--expert-shards", g.expertShards);
    atLeastOne("--threads", g.threads);
    atLeastOne("--max-sequences", g.maxSequences);
    atLeastOne("--token-budget", g.tokenBudget);
    atLeastOne("--checkpoint-interval", g.checkpointIntervalMillis);
    atLeastOne("--default-max-tokens", g.defaultMaxTokens);
    atLeastOne("--max-waiting", g.maxWaiting);
    if (g.prefixCacheMib < -1) {
      throw new UsageException("--prefix-cache-mib is " + g.prefixCacheMib + "; give 0 (off) or more MiB");
    }
    if (g.maxPromptTokens < 0) {
      throw new UsageException("--max-prompt-tokens is " + g.maxPromptTokens + "; give 0 (the model's context) or more");
    }
    backend(g.backend);
    speculation(g.speculative, Path.of(g.model), config);
    if (g.placement != null && !g.placement.isBlank()) {
      try {
        ExpertPlacement.parse(config, g.expertShards, g.placement);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--placement \"" + g.placement + "\" is not a placement for " + g.expertShards
            + " expert shards: " + e.getMessage() + "; give one shard id per expert (\"0,0,1,1,...\") or per layer"
            + " (\"3:0,1,...;4:...\"), or leave --placement out for balanced runs", e);
      }
    }
  }

  /** {@code --speculative mtp} needs the checkpoint's MTP module (layer {@code num_hidden_layers}). */
  public static void speculation(Speculation speculation, Path dir, ModelConfig config) throws IOException {
    if (speculation != Speculation.MTP) {
      return;
    }
    try (Checkpoint checkpoint = Checkpoint.open(dir)) {
      String name = TensorNames.mtp(config, "eh_proj.weight");
      if (!checkpoint.contains(name)) {
        throw new UsageException("--speculative mtp, but " + dir + " has no MTP module (no " + name
            + "); leave --speculative out, or use a checkpoint that ships one (num_nextn_predict_layers 1)");
      }
    }
  }

  /** {@code vector} needs the Vector API and {@code cuda} a usable CUDA device here (picocli checks the name). */
  public static void backend(BackendKind backend) {
    if (backend == BackendKind.VECTOR && !Backends.vectorApiPresent()) {
      throw new UsageException("--backend vector needs the Vector API: start the JVM with --add-modules"
          + " jdk.incubator.vector (bin/moe-flink does), or give --backend auto");
    }
    if (backend == BackendKind.CUDA) {
      CudaAvailability cuda = CudaAvailability.probe();
      if (!cuda.available()) {
        throw new UsageException("--backend cuda, but CUDA is unusable here: " + cuda.problem() + "; give --backend auto to run on the CPU");
      }
    }
  }

  /** The streaming job's own options (the brokers are resolved by the caller). */
  public static void streaming(StreamingJobOptions o) throws IOException {
    generation(o.generation);
    recordFormat("--request-format", o.requestFormat);
  }

  /** The corpus job's own options: input files exist, known output format, resume with checkpoints. */
  public static void corpus(CorpusJobOptions o) throws IOException {
    if (o.resume && (o.generation.checkpointDir == null || o.generation.checkpointDir.isBlank())) {
      throw new UsageException("--resume needs --checkpoint-dir DIR, the directory the interrupted run checkpointed to");
    }
    if (!CORPUS_FORMATS.contains(o.format)) {
      throw new UsageException("--format " + o.format + " is not an output format; give ours, openai-batch or avro");
    }
    List<Path> files;
    try {
      files = CorpusSize.files(o.input);
    } catch (java.nio.file.NoSuchFileException e) {
      files = List.of();
    }
    if (files.isEmpty() || files.stream().anyMatch(f -> !Files.isRegularFile(f))) {
      throw new UsageException("--input " + o.input + ": no such file, directory or glob match; give a JSONL or"
          + " Avro file of requests, a directory of them, or a glob such as 'corpus/*.jsonl'");
    }
    generation(o.generation);
  }

  /** The value encoding of requests: {@code avro} or {@code json}. */
  public static RecordFormat recordFormat(String option, String value) {
    try {
      return RecordFormat.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException(option + " " + value + " is not a request encoding; give avro or json");
    }
  }

  private static void atLeastOne(String option, long value) {
    if (value < 1) {
      throw new UsageException(option + " is " + value + "; give 1 or more");
    }
  }
}
