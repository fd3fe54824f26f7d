package io.moeflink.workbench.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeflink.engine.generate.BatchScheduler;
import io.moeflink.engine.generate.GenerationRequest;
import io.moeflink.engine.generate.GenerationResult;
import io.moeflink.engine.generate.Generator;
import io.moeflink.engine.generate.SchedulerLimits;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.Model;
import io.moeflink.engine.sampling.SamplingParams;
import io.moeflink.engine.tokenizer.ChatMessage;
import io.moeflink.engine.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The demo model answers in words: the 20 held-out words ({@code models/demo/eval/held-out-words.txt},
 * asked in no training chat) asked greedily as "What does X mean?"; at least 80% of the answers'
 * whitespace-separated words (lower-cased, non-letters stripped from both ends) must be in the
 * vocabulary of the training chats ({@code eval/vocabulary.txt.gz}, written by the training
 * script). With MTP speculative decoding these answers, and sampled passages of the novels, are
 * token for token the same.
 */
class DemoModelEvalTest {
  private static final Path EVAL = DemoModelGoldenTest.DEMO.resolve("eval");
  private static final int MAX_TOKENS = 32;

  @Test
  void heldOutWordsAreAnsweredInWordsOfTheCorpus() throws IOException {
    Tokenizer tokenizer = Tokenizer.load(DemoModelGoldenTest.DEMO);
    List<String> heldOut = Files.readAllLines(EVAL.resolve("held-out-words.txt")).stream().filter(w -> !w.isBlank()).toList();
    Set<String> vocabulary = vocabulary();
    assertThat(heldOut).hasSize(20);
    List<GenerationRequest> requests = new ArrayList<>();
    SamplingParams greedy = new SamplingParams(0, 0, 1, 0, MAX_TOKENS, Set.of(tokenizer.eosId().getAsInt()), List.of());
    for (String w : heldOut) {
      int[] prompt = tokenizer.applyChatTemplate(List.of(new ChatMessage("user", "What does " + w + " mean?")), true);
      requests.add(new GenerationRequest(w, prompt, greedy));
    }
    // Sampled requests too, for the speculative comparison only.
    String[] novels = {"Emma", "Persuasion", "Pride and Prejudice", "Mansfield Park"};
    for (int i = 0; i < novels.length; i++) {
      int[] prompt = tokenizer.applyChatTemplate(List.of(new ChatMessage("user", "Tell me a passage from " + novels[i] + ".")), true);
      requests.add(new GenerationRequest("sampled-" + i, prompt,
          new SamplingParams(0.8, 40, 0.95, 100 + i, MAX_TOKENS, Set.of(tokenizer.eosId().getAsInt()), List.of())));
    }
    List<GenerationResult> plain = generate(requests, false).results();
    Run speculative = generate(requests, true);
    BatchScheduler.SpeculationCounts counts = speculative.counts();
    int words = 0;
    int known = 0;
    for (int i = 0; i < plain.size(); i++) {
      assertThat(speculative.results().get(i).tokens()).as(requests.get(i).id()).containsExactly(plain.get(i).tokens());
    }
    for (int i = 0; i < heldOut.size(); i++) {
      String answer = tokenizer.decode(plain.get(i).tokens(), true);
      for (String piece : answer.trim().split("\\s+")) {
        String word = piece.toLowerCase(Locale.ROOT).replaceAll("^[^a-z]+|[^a-z]+$", "");
        if (!word.isEmpty()) {
          words++;
          known += vocabulary.contains(word) ? 1 : 0;
        }
      }
      System.out.printf("What does %s mean? -> %s%n", heldOut.get(i), answer);
    }
    double fraction = known / (double) words;
    System.out.printf("held-out answers: %d of %d words (%.1f%%) in the training vocabulary; MTP drafts (these and the sampled passages) %d, accepted %d (%.2f)%n",
        known, words, 100 * fraction, counts.proposed(), counts.accepted(), counts.accepted() / (double) counts.proposed());
    assertThat(words).as("words in all answers").isGreaterThanOrEqualTo(3 * heldOut.size());
    assertThat(fraction).as("share of answer words in the training vocabulary").isGreaterThanOrEqualTo(0.8);
  }

  private record Run(List<GenerationResult> results, BatchScheduler.SpeculationCounts counts) {}

  private static Run generate(List<GenerationRequest> requests, boolean mtp) throws IOException {
    try (KernelBackend k = Backends.cpu(BackendKind.VECTOR, 2); Model m = Model.load(DemoModelGoldenTest.DEMO, k, mtp)) {
      Generator g = new Generator(m, 2, new SchedulerLimits(8, 256), null);
      return new Run(g.generate(requests), g.speculationCounts());
    }
  }

  private static Set<String> vocabulary() throws IOException {
    Set<String> words = new HashSet<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(EVAL.resolve("vocabulary.txt.gz"))), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isEmpty()) {
          words.add(line);
        }
      }
    }
    return words;
  }
}
