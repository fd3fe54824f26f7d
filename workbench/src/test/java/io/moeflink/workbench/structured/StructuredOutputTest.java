package io.moeflink.workbench.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.FinishReason;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.structured.StructuredOutput;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Tokenizer;
import io.moeflink.workbench.bench.StructuredSchemas;
import io.moeflink.workbench.modelgen.ModelGenerator;
import io.moeflink.workbench.modelgen.ModelPreset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Done-when of structured output, through the engine: 200 requests over 10 schemas on the
 * random {@code tiny} model and on the trained demo model (greedy and sampled), every completion
 * parsed and validated by a JSON schema validator; with MTP speculation the completions are the
 * same tokens.
 */
class StructuredOutputTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private static final Path DEMO = Path.of("../models/demo");
  private static Path model;

  @BeforeAll
  static void generate() throws IOException {
    model = Path.of("target/structured-models/tiny-mtp");
    if (!Files.exists(model.resolve("config.json"))) {
      ModelGenerator.builder(ModelPreset.TINY.shape()).mtp(true).seed(5).build().writeTo(model);
    }
  }

  /** {@code count} requests cycling through the schemas; even ones greedy, odd ones sampled. */
  static List<GenerationRequest> requests(Tokenizer tokenizer, StructuredOutput structured, int count) {
    return requests(tokenizer, structured, count, r -> tokenizer.encodePrompt("Request " + r + ": answer in JSON."));
  }

  static List<GenerationRequest> requests(
      Tokenizer tokenizer, StructuredOutput structured, int count, IntFunction<int[]> prompts) {
    List<GenerationRequest> out = new ArrayList<>();
    Set<Integer> eos = Set.of(tokenizer.eosId().orElseThrow());
    for (int r = 0; r < count; r++) {
      String format = StructuredSchemas.RESPONSE_FORMATS.get(r % StructuredSchemas.RESPONSE_FORMATS.size());
      int maxTokens = 40 + r % 25;
      SamplingParams sampling = r % 2 == 0 ? new SamplingParams(0, 0, 1, 0, maxTokens, eos, List.of())
          : new SamplingParams(0.9, 50, 0.95, 100 + r, maxTokens, eos, List.of());
      out.add(new GenerationRequest("r" + r, prompts.apply(r), sampling, structured.constraint(format)));
    }
    return out;
  }

  private static List<GenerationResult> run(boolean mtp, int count) throws IOException {
    Tokenizer tokenizer = Tokenizer.load(model);
    return run(model, mtp, requests(tokenizer, new StructuredOutput(tokenizer), count), tokenizer);
  }

  private static List<GenerationResult> run(Path dir, boolean mtp, List<GenerationRequest> requests, Tokenizer tokenizer)
      throws IOException {
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, 2); Model m = Model.load(dir, k, mtp)) {
      Generator g = new Generator(m, 2, new SchedulerLimits(16, 256), tokenizer::decodeGenerated);
      return g.generate(requests);
    }
  }

  static void assertValid(String id, String responseFormat, String text) throws IOException {
    Schema schema = SCHEMAS.getSchema(StructuredSchemas.schemaOf(responseFormat));
    assertThat(JSON.readTree(text)).as("%s parses: %s", id, text).isNotNull();
    assertThat(schema.validate(text, InputFormat.JSON)).as("%s validates: %s", id, text).isEmpty();
  }

  @Test
  void everyCompletionParsesAndValidates() throws IOException {
    List<GenerationResult> results = run(false, 200);
    assertThat(results).hasSize(200);
    int stopped = 0;
    for (int r = 0; r < results.size(); r++) {
      GenerationResult result = results.get(r);
      assertValid(result.id(), StructuredSchemas.RESPONSE_FORMATS.get(r % 10), result.text());
      stopped += result.finishReason() == FinishReason.STOP ? 1 : 0;
    }
    assertThat(stopped).as("closed values finish with stop").isEqualTo(200);
  }

  /** The trained model writes words into the strings: the constraint must hold whatever it wants to say. */
  @Test
  void everyCompletionOfTheDemoModelParsesAndValidates() throws IOException {
    assumeTrue(Files.exists(DEMO.resolve("config.json")), "the demo model is committed in models/demo");
    Tokenizer tokenizer = Tokenizer.load(DEMO);
    String[] words = {"harbor", "river", "quickly", "candle", "garden"};
    List<GenerationRequest> requests = requests(tokenizer, new StructuredOutput(tokenizer), 200,
        r -> tokenizer.applyChatTemplate(List.of(new ChatMessage("user",
            "What does " + words[r % words.length] + " mean? Answer in JSON.")), true));
    List<GenerationResult> results = run(DEMO, false, requests, tokenizer);
    assertThat(results).hasSize(200);
    for (int r = 0; r < results.size(); r++) {
      assertValid(results.get(r).id(), StructuredSchemas.RESPONSE_FORMATS.get(r % 10), results.get(r).text());
      assertThat(results.get(r).finishReason()).as(results.get(r).id()).isEqualTo(FinishReason.STOP);
    }
  }

  @Test
  void speculativeDecodingGivesTheSameConstrainedTokens() throws IOException {
    List<GenerationResult> plain = run(false, 30);
    List<GenerationResult> speculative = run(true, 30);
    for (int r = 0; r < plain.size(); r++) {
      assertThat(speculative.get(r).tokens()).as(plain.get(r).id()).containsExactly(plain.get(r).tokens());
      assertValid(plain.get(r).id(), StructuredSchemas.RESPONSE_FORMATS.get(r % 10), speculative.get(r).text());
    }
  }
}
