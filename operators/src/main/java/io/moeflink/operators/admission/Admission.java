package io.moeflink.operators.admission;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.UnsupportedSchemaException;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Thinking;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.operators.GenerationOutput;
import io.moeflink.operators.GenerationTask;
import io.moeflink.operators.ModelFiles;
import io.moeflink.schemas.InferenceRequest;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns decoded requests into generation tasks: validates them against the model (name, context
 * length, vocabulary), renders the chat template for {@code messages}, tokenizes {@code prompt}
 * (BOS per the tokenizer config) and takes {@code prompt_token_ids} as given. Generation stops at
 * the model's EOS token besides the request's own stops.
 *
 * <p>A request that has an id but cannot be served leaves through {@link #REJECTED} as an error
 * answer ({@code finish_reason: error} with the reason), counted in {@code requestsRejected}; it
 * never fails the job.
 */
public final class Admission extends ProcessFunction<InferenceRequest, GenerationTask> {
  private static final long serialVersionUID = 1L;

  /** Error answers for requests that cannot be served. */
  public static final OutputTag<GenerationOutput> REJECTED = new OutputTag<>("rejected", GenerationOutput.TYPE);

  private final String modelDir;
  private final AdmissionPolicy policy;

  private transient ModelFiles files;
  private transient ModelConfig config;
  private transient Tokenizer tokenizer;
  private transient Counter admitted;
  private transient Counter rejected;

  public Admission(String modelDir, AdmissionPolicy policy) {
    this.modelDir = modelDir;
    this.policy = policy;
  }

  @Override
  public void open(OpenContext context) throws Exception {
    files = ModelFiles.acquire(getRuntimeContext(), Path.of(modelDir));
    config = files.config();
    tokenizer = files.tokenizer();
    admitted = getRuntimeContext().getMetricGroup().counter("requestsAdmitted");
    rejected = getRuntimeContext().getMetricGroup().counter("requestsRejected");
  }

  @Override
  public void close() throws Exception {
    if (files != null) {
      files.release();
    }
    super.close();
  }

  @Override
  public void processElement(InferenceRequest request, Context ctx, Collector<GenerationTask> out) {
    try {
      out.collect(admit(request, System.currentTimeMillis()));
      admitted.inc();
    } catch (RequestRejectedException e) {
      rejected.inc();
      long seed = request.getSampling() != null && request.getSampling().getSeed() != null ? request.getSampling().getSeed() : 0;
      ctx.output(REJECTED, GenerationOutput.error(request.getId(), e.getMessage(), modelName(), request.getMetadata(), seed));
    }
  }

  /** Validates and tokenizes one request. */
  GenerationTask admit(InferenceRequest r, long nowMillis) throws RequestRejectedException {
    String wanted = r.getModel();
    boolean anyName = policy.modelName() == null || policy.modelName().isBlank();
    if (!anyName && wanted != null && !wanted.isBlank() && !wanted.equals(modelName())) {
      throw new RequestRejectedException("Unknown model \"" + wanted + "\": this job serves \"" + modelName() + "\"");
    }
    int[] prompt = promptTokens(r);
    if (prompt.length == 0) {
      throw new RequestRejectedException("The prompt is empty after tokenization");
    }
    for (int t : prompt) {
      if (t < 0 || t >= config.vocabSize()) {
        throw new RequestRejectedException("prompt_token_ids contains " + t + ", outside the vocabulary 0.." + (config.vocabSize() - 1));
      }
    }
    int context = config.exactContext();
    int maxPrompt = policy.maxPromptTokens() == 0 ? context - 1 : Math.min(policy.maxPromptTokens(), context - 1);
    if (prompt.length > maxPrompt) {
      throw new RequestRejectedException("The prompt has " + prompt.length + " tokens, more than the " + maxPrompt + " accepted");
    }
    SamplingParams sampling = sampling(r, context - prompt.length);
    checkResponseFormat(r.getResponseFormat());
    return new GenerationTask(r.getId(), prompt, sampling, modelName(), r.getMetadata(), nowMillis, r.getPriority(),
        r.getTenant() == null || r.getTenant().isBlank() ? null : r.getTenant(), r.getResponseFormat());
  }

  /** Compiles the response format now (cached per subtask), so that a bad one is answered here. */
  private void checkResponseFormat(String responseFormat) throws RequestRejectedException {
    try {
      files.structuredOutput().constraint(responseFormat);
    } catch (UnsupportedSchemaException e) {
      throw new RequestRejectedException("Unsupported response_format: " + e.getMessage());
    }
  }

  private int[] promptTokens(InferenceRequest r) throws RequestRejectedException {
    if (r.getPromptTokenIds() != null && !r.getPromptTokenIds().isEmpty()) {
      return r.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
    }
    if (tokenizer == null) {
      throw new RequestRejectedException("The model has no tokenizer.json: send prompt_token_ids");
    }
    if (r.getMessages() != null && !r.getMessages().isEmpty()) {
      List<ChatMessage> messages = r.getMessages().stream().map(m -> new ChatMessage(m.getRole(), m.getContent())).toList();
      try {
        return tokenizer.applyChatTemplate(messages, true, Thinking.of(r.getThinking()));
      } catch (IllegalArgumentException e) {
        throw new RequestRejectedException("The chat template refused the messages: " + e.getMessage());
      }
    }
    if (r.getPrompt() != null) {
      return tokenizer.encodePrompt(r.getPrompt());
    }
    throw new RequestRejectedException("The request has no prompt, messages or prompt_token_ids");
  }

  private SamplingParams sampling(InferenceRequest r, int room) throws RequestRejectedException {
    var s = r.getSampling();
    int maxTokens = s != null && s.getMaxTokens() != null ? s.getMaxTokens() : Math.min(policy.defaultMaxTokens(), room);
    if (maxTokens > room) {
      throw new RequestRejectedException(
          "max_tokens " + maxTokens + " does not fit: the prompt leaves " + room + " of " + config.exactContextLimit()
              + " positions");
    }
    Set<Integer> stops = new HashSet<>();
    stops.add(config.eosTokenId());
    List<String> stopStrings = List.of();
    double temperature = 0;
    double topP = 1;
    int topK = 0;
    long seed = 0;
    if (s != null) {
      temperature = s.getTemperature() == null ? 0 : s.getTemperature();
      topP = s.getTopP() == null ? 1 : s.getTopP();
      topK = s.getTopK() == null ? 0 : s.getTopK();
      seed = s.getSeed() == null ? 0 : s.getSeed();
      stops.addAll(s.getStopTokenIds());
      stopStrings = s.getStop();
    }
    try {
      return new SamplingParams(temperature, topK, topP, seed, maxTokens, stops, stopStrings);
    } catch (IllegalArgumentException e) {
      throw new RequestRejectedException("Invalid sampling: " + e.getMessage());
    }
  }

  private String modelName() {
    return policy.modelName() == null || policy.modelName().isBlank() ? Path.of(modelDir).getFileName().toString() : policy.modelName();
  }

  /** Why a request cannot be served; becomes its error answer. */
  static final class RequestRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    RequestRejectedException(String message) {
      super(message);
    }
  }
}
