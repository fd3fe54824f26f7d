package io.moeflink.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

  /** DeepSeek-V3's vocab_size. */
  private static final int VOCAB = 129280;

  private static SamplingParams params(double temperature, int topK, double topP, long seed) {
    return new SamplingParams(temperature, topK, topP, seed, 16, Set.of(), List.of());
  }

  /** Logits shaped like a model's: roughly normal, scale 3, seeded. */
  private static float[] randomLogits(int vocab, long seed) {
    Random random = new Random(seed);
    float[] logits = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      logits[i] = (float) (3 * random.nextGaussian());
    }
    return logits;
  }

  @Test
  void greedyPicksTheArgmax() {
    float[] logits = {0.5f, -1f, 3.25f, 3f, Float.NEGATIVE_INFINITY};
    assertThat(Sampler.sample(logits, SamplingParams.greedy(1), 0)).isEqualTo(2);
  }

  @Test
  void greedyBreaksTiesTowardsTheLowestId() {
    float[] logits = {1f, 7f, 2f, 7f, 7f};
    assertThat(Sampler.sample(logits, SamplingParams.greedy(1), 0)).isEqualTo(1);
    // -0.0 and +0.0 are the same logit.
    assertThat(Sampler.sample(new float[] {-0.0f, 0.0f}, SamplingParams.greedy(1), 0)).isZero();
  }

  @Test
  void sameSeedAndPositionGiveTheSameToken() {
    float[] logits = randomLogits(VOCAB, 1);
    SamplingParams p = params(1.0, 0, 1, 42);
    for (int position = 0; position < 20; position++) {
      int first = Sampler.sample(logits, p, position);
      assertThat(Sampler.sample(logits.clone(), p, position)).isEqualTo(first);
    }
  }

  @Test
  void drawsDifferAcrossPositionsAndSeeds() {
    Set<Double> draws = new HashSet<>();
    for (int position = 0; position < 1000; position++) {
      draws.add(CounterRandom.uniform(7, position));
      draws.add(CounterRandom.uniform(8, position));
    }
    assertThat(draws).hasSize(2000).allSatisfy(u -> assertThat(u).isGreaterThanOrEqualTo(0.0).isLessThan(1.0));

    float[] uniform = new float[100];
    Set<Integer> tokens = new HashSet<>();
    for (int position = 0; position < 50; position++) {
      tokens.add(Sampler.sample(uniform, params(1.0, 0, 1, 7), position));
    }
    assertThat(tokens).hasSizeGreaterThan(30);
  }

  @Test
  void uniformDrawsAreEvenlySpread() {
    int buckets = 10;
    int n = 100_000;
    int[] counts = new int[buckets];
    for (int t = 0; t < n; t++) {
      counts[(int) (CounterRandom.uniform(123, t) * buckets)]++;
    }
    double chiSquare = 0;
    for (int count : counts) {
      double expected = (double) n / buckets;
      chiSquare += (count - expected) * (count - expected) / expected;
    }
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    assertThat(chiSquare).isLessThan(27.9);
  }

  @Test
  void samplesTheSoftmaxDistribution() {
    float[] logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, Float.NEGATIVE_INFINITY};
    double temperature = 0.8;
    double[] expected = softmax(logits, temperature);
    int n = 50_000;
    int[] counts = new int[logits.length];
    for (int seed = 0; seed < n; seed++) {
      counts[Sampler.sample(logits, params(temperature, 0, 1, seed), 3)]++;
    }
    double chiSquare = 0;
    for (int i = 0; i < logits.length; i++) {
      // Binomial standard deviation at n = 50k is at most 0.0023; allow 4 of them.
      assertThat((double) counts[i] / n).as("token %d", i).isCloseTo(expected[i], within(0.009));
      if (expected[i] > 0) {
        chiSquare += Math.pow(counts[i] - n * expected[i], 2) / (n * expected[i]);
      }
    }
    assertThat(counts[5]).as("masked token").isZero();
    // 4 degrees of freedom: P(chi2 > 18.5) = 0.001.
    assertThat(chiSquare).isLessThan(18.5);
  }

  @Test
  void samplesTheRenormalisedTopKDistribution() {
    float[] logits = {0.0f, 2.0f, 1.0f, 1.5f, -3.0f};
    int n = 40_000;
    int[] counts = new int[logits.length];
    for (int seed = 0; seed < n; seed++) {
      counts[Sampler.sample(logits, params(1.0, 2, 1, seed), 0)]++;
    }
    double p1 = 1 / (1 + Math.exp(-0.5)); // tokens 1 and 3 only
    assertThat((double) counts[1] / n).isCloseTo(p1, within(0.01));
    assertThat((double) counts[3] / n).isCloseTo(1 - p1, within(0.01));
    assertThat(counts[0] + counts[2] + counts[4]).isZero();
  }

  @Test
  void topKOfOneIsGreedy() {
    float[] logits = randomLogits(VOCAB, 2);
    int argmax = Sampler.sample(logits, SamplingParams.greedy(1), 0);
    for (int seed = 0; seed < 20; seed++) {
      assertThat(Sampler.sample(logits, params(1.5, 1, 1, seed), seed)).isEqualTo(argmax);
    }
  }

  @Test
  void tinyTopPIsGreedy() {
    float[] logits = randomLogits(VOCAB, 3);
    int argmax = Sampler.sample(logits, SamplingParams.greedy(1), 0);
    for (int seed = 0; seed < 20; seed++) {
      assertThat(Sampler.sample(logits, params(1.0, 0, 1e-9, seed), seed)).isEqualTo(argmax);
    }
  }

  @Test
  void topPKeepsTheTokenThatCrossesPAndExcludesTheTail() {
    // Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 (ids 4, 3, 2, 1, 0).
    float[] logits = new float[5];
    double[] probabilities = {0.0625, 0.0625, 0.125, 0.25, 0.5};
    for (int i = 0; i < 5; i++) {
      logits[i] = (float) Math.log(probabilities[i]);
    }
    Set<Integer> seen = new HashSet<>();
    int n = 4000;
    int[] counts = new int[5];
    for (int seed = 0; seed < n; seed++) {
      int token = Sampler.sample(logits, params(1.0, 0, 0.6, seed), 0);
      seen.add(token);
      counts[token]++;
    }
    // 0.5 < 0.6, so the nucleus is {4, 3}: 3 crosses p, 2 and below are the tail.
    assertThat(seen).containsExactlyInAnyOrder(4, 3);
    assertThat((double) counts[4] / n).isCloseTo(2.0 / 3, within(0.03));
  }

  @Test
  void topPWidensBeyondTheFirstGuessOnFlatDistributions() {
    float[] flat = new float[VOCAB]; // all equal: the nucleus of p = 0.5 is the lowest half of ids
    Set<Integer> tokens = new HashSet<>();
    for (int seed = 0; seed < 50; seed++) {
      int token = Sampler.sample(flat, params(1.0, 0, 0.5, seed), 0);
      assertThat(token).isLessThan(VOCAB / 2 + 1);
      tokens.add(token);
    }
    assertThat(tokens).hasSizeGreaterThan(40);
  }

  @Test
  void topCandidatesRankByLogitThenId() {
    float[] logits = {1f, 5f, 3f, 5f, -2f, 3f, Float.NEGATIVE_INFINITY};
    assertThat(Sampler.topCandidates(logits, 4)).containsExactly(1, 3, 2, 5);
    assertThat(Sampler.topCandidates(logits, 7)).containsExactly(1, 3, 2, 5, 0, 4, 6);
  }

  @Test
  void topCandidatesAgreeWithAFullSort() {
    float[] logits = randomLogits(10_000, 4);
    for (int i = 0; i < logits.length; i += 7) {
      logits[i] = Math.round(logits[i]); // plenty of ties
    }
    Integer[] order = new Integer[logits.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
    int[] top = Sampler.topCandidates(logits, 500);
    for (int r = 0; r < top.length; r++) {
      assertThat(top[r]).as("rank %d", r).isEqualTo(order[r]);
    }
  }

  @Test
  void isFastOnTheFullVocabulary() {
    float[] logits = randomLogits(VOCAB, 5);
    SamplingParams[] settings = {
      params(0.7, 50, 1, 1), params(0.7, 0, 0.9, 1), params(0.7, 50, 0.9, 1), params(0.7, 0, 1, 1)
    };
    for (SamplingParams p : settings) {
      for (int warm = 0; warm < 20; warm++) {
        Sampler.sample(logits, p, warm);
      }
      long start = System.nanoTime();
      int calls = 20;
      for (int t = 0; t < calls; t++) {
        Sampler.sample(logits, p, t);
      }
      double msPerToken = (System.nanoTime() - start) / 1e6 / calls;
      // A generous bound that only catches a full sort per token on a slow CI machine.
      assertThat(msPerToken).as("ms per token for %s", p).isLessThan(50);
    }
  }

  @Test
  void rejectsLogitsWithoutADistribution() {
    SamplingParams p = params(1.0, 0, 1, 0);
    assertThatThrownBy(() -> Sampler.sample(new float[0], p, 0)).hasMessageContaining("empty");
    assertThatThrownBy(() -> Sampler.sample(new float[] {0, Float.NaN}, p, 0))
        .hasMessageContaining("logits[1] is NaN");
    assertThatThrownBy(() -> Sampler.sample(new float[] {Float.POSITIVE_INFINITY}, p, 0))
        .hasMessageContaining("logits[0] is Infinity");
    assertThatThrownBy(
            () -> Sampler.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, p, 0))
        .hasMessageContaining("all 2 logits are -Infinity");
  }

  private static double[] softmax(float[] logits, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }
}
