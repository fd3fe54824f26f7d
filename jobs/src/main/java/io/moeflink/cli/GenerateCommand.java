package io.moeflink.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.generate.Speculation;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.jobs.BackendKindConverter;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.jobs.JobPreflight;
import io.moeflink.jobs.SpeculationConverter;
import io.moeflink.jobs.UsageException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe-flink generate}: the engine alone, one prompt, one JSON object on stdout.
 *
 * <p>A text prompt is tokenized (BOS per the tokenizer config, or the chat template with {@code
 * --chat}) and generation stops at the model's EOS token unless {@code --ignore-eos}. A prompt
 * given as token ids runs exactly as DeepSeek's reference {@code generate()} does: no EOS stop
 * unless {@code --stop-token-ids} names one.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Generate a completion with the engine alone (no Flink) and print it as JSON.")
final class GenerateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "Hugging Face DeepSeek-V3 checkpoint directory.")
  Path model;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Prompt prompt;

  static final class Prompt {
    @Option(names = "--prompt", description = "Prompt text (needs tokenizer.json in the model directory).")
    String text;

    @Option(names = "--prompt-tokens", split = ",", description = "Prompt as token ids, e.g. 0,5,7 (BOS included by you).")
    int[] tokens;
  }

  @Option(names = "--chat", description = "Wrap --prompt as a user message in the model's chat template.")
  boolean chat;

  @Option(names = "--max-new-tokens", defaultValue = "16", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default).")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass, (0, 1] (default 1 = off).")
  double topP;

  @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (default 0 = off).")
  int topK;

  @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--stop-token-ids", split = ",", description = "Token ids that end generation.")
  int[] stopTokenIds = new int[0];

  @Option(names = "--stop", description = "Stop strings (repeatable); the text is cut before them.")
  List<String> stopStrings = List.of();

  @Option(names = "--ignore-eos", description = "Do not stop at the model's EOS token for a text prompt.")
  boolean ignoreEos;

  @Option(names = "--expert-shards", defaultValue = "1", description = "Expert shards (in-process) (default ${DEFAULT-VALUE}).")
  int expertShards;

  @Option(names = "--backend", defaultValue = "auto", converter = BackendKindConverter.class,
      description = "Kernel backend: auto, vector or scalar (default ${DEFAULT-VALUE}).")
  BackendKind backend;

  @Option(names = "--threads", description = "Kernel threads (default: available processors).")
  Integer threads;

  @Option(names = "--speculative", defaultValue = "none", converter = SpeculationConverter.class,
      description = "none, or mtp: draft with the checkpoint's MTP module (same tokens, fewer steps) (default ${DEFAULT-VALUE}).")
  Speculation speculative;

  @Option(names = "--logits-out", description = "Write {\"prefill_last_logits\": [...]} (logits of the last prompt position) here.")
  Path logitsOut;

  @Override
  public Integer call() throws Exception {
    checkSampling();
    JobPreflight.speculation(speculative, model, JobPreflight.modelDirectory("--model", model));
    int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    try (KernelBackend kernels = Backends.cpu(backend, nThreads);
        Model m = Model.load(model, kernels, speculative == Speculation.MTP)) {
      Tokenizer tokenizer = Tokenizer.isPresentIn(model) ? Tokenizer.load(model) : null;
      int[] promptTokens;
      Set<Integer> stops = new HashSet<>();
      Arrays.stream(stopTokenIds).forEach(stops::add);
      if (prompt.text != null) {
        if (tokenizer == null) {
          throw new UsageException(
              "--prompt needs " + Tokenizer.TOKENIZER_FILE + " (or " + Tokenizer.TIKTOKEN_FILE + ") in " + model + "; give --prompt-tokens instead");
        }
        promptTokens = chat
            ? tokenizer.applyChatTemplate(List.of(new ChatMessage("user", prompt.text)), true)
            : tokenizer.encodePrompt(prompt.text);
        if (!ignoreEos) {
          stops.add(m.config().eosTokenId());
        }
      } else {
        promptTokens = prompt.tokens;
      }
      SamplingParams sampling = new SamplingParams(temperature, topK, topP, seed, maxNewTokens, stops, stopStrings);
      Generator generator = new Generator(m, expertShards, SchedulerLimits.DEFAULT,
          tokenizer == null ? null : tokenizer::decodeGenerated);
      float[][] prefillLogits = new float[1][];
      GenerationResult r = generator.generate(List.of(new GenerationRequest("cli", promptTokens, sampling)), x -> {},
          (id, index, logits) -> {
            if (index == 0) {
              prefillLogits[0] = logits;
            }
          }).get(0);
      if (logitsOut != null) {
        writeLogits(logitsOut, prefillLogits[0]);
      }
      ObjectNode out = JSON.createObjectNode();
      out.put("model_family", m.config().family().displayName());
      ArrayNode tokens = out.putArray("tokens");
      Arrays.stream(r.tokens()).forEach(tokens::add);
      if (r.text() != null) {
        out.put("text", r.text());
      }
      out.put("finish_reason", r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
      out.put("prompt_tokens", promptTokens.length);
      out.put("completion_tokens", r.tokens().length);
      out.put("total_ms", r.totalMillis());
      if (speculative == Speculation.MTP) {
        out.put("drafts_proposed", generator.speculationCounts().proposed());
        out.put("drafts_accepted", generator.speculationCounts().accepted());
      }
      PrintWriter stdout = spec.commandLine().getOut();
      stdout.println(JSON.writeValueAsString(out));
      stdout.flush();
      return 0;
    }
  }

  private static void writeLogits(Path file, float[] logits) throws java.io.IOException {
    StringBuilder sb = new StringBuilder("{\"prefill_last_logits\": [");
    for (int i = 0; i < logits.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(Float.toString(logits[i])); // shortest repr: exact float32 round trip
    }
    Files.writeString(file, sb.append("]}\n").toString());
  }

  /** The sampling options, checked before the model loads; the message names the option. */
  private void checkSampling() {
    try {
      new SamplingParams(temperature, topK, topP, seed, maxNewTokens, Set.of(), stopStrings);
      Arrays.stream(stopTokenIds).forEach(id -> {
        if (id < 0) {
          throw new IllegalArgumentException("stopTokenIds must be >= 0, got " + id);
        }
      });
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      for (String[] field : SAMPLING_OPTIONS) {
        if (message.startsWith(field[0] + " ")) {
          throw new UsageException(field[1] + ": " + message.substring(field[0].length() + 1), e);
        }
      }
      throw new UsageException(message, e);
    }
  }

  /** SamplingParams' field names and the options that set them. */
  private static final String[][] SAMPLING_OPTIONS = {
      {"temperature", "--temperature"}, {"topK", "--top-k"}, {"topP", "--top-p"},
      {"maxTokens", "--max-new-tokens"}, {"stopTokenIds", "--stop-token-ids"}, {"stopStrings", "--stop"}};
}
