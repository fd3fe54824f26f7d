package io.moeflink.engine.sampling;

import java.util.Arrays;

/**
 * Chooses the next token from the logits of one sequence.
 *
 * <p>Greedy ({@code temperature == 0}) takes the argmax, the lowest id among equal logits. Otherwise,
 * in the order Hugging Face's and vLLM's samplers apply them:
 *
 * <ol>
 *   <li>temperature: weights {@code w_i = exp((l_i - max l) / T)}, in double, with {@link
 *       PortableExp} (the same bits on every JVM and CPU, unlike {@code Math.exp});
 *   <li>top-k: the {@code k} largest logits, ties to the lower id;
 *   <li>top-p: walking those candidates from the most likely, keep each token while the mass before
 *       it is below {@code p} of the total (so the token that crosses {@code p} is kept);
 *   <li>renormalise over the kept tokens and draw by inverse CDF with the uniform number of {@link
 *       CounterRandom#uniform(long, long) (seed, position)}.
 * </ol>
 *
 * Every sum runs in a fixed order (token id for the full vocabulary, rank for candidates), so the
 * chosen token is a pure function of (logits, params, position).
 *
 * <p>Cost for a vocabulary of V tokens: one pass for the maximum; top-k selects with a heap of k
 * entries (O(V log k)), no full sort; top-p alone first ranks the best 64 candidates and widens
 * eightfold until the nucleus fits, so a full sort (of primitive keys) happens only for very flat
 * distributions.
 */
public final class Sampler {

  /** Candidates ranked first when only top-p limits the set. */
  private static final int FIRST_NUCLEUS_GUESS = 64;

  /** How much the ranked candidates grow when the nucleus is larger than them. */
  private static final int NUCLEUS_GROWTH = 8;

  /** Above V / 4 candidates a full sort of the rank keys beats the heap. */
  private static final int FULL_SORT_FRACTION = 4;

  private Sampler() {}

  /**
   * The next token.
   *
   * @param logits (vocab) the model's scores for the next token; finite or -Infinity (masked)
   * @param position the position of the token being chosen within its sequence; with the seed it
   *     fixes the random draw, so re-sampling the same position gives the same token
   * @throws IllegalArgumentException if the logits are empty, hold NaN or +Infinity, or are all
   *     -Infinity
   */
  public static int sample(float[] logits, SamplingParams params, long position) {
    float max = checkedMax(logits);
    if (params.isGreedy()) {
      return argmax(logits);
    }
    double temperature = params.temperature();
    double u = CounterRandom.uniform(params.seed(), position);
    int vocab = logits.length;
    boolean limitK = params.topK() > 0 && params.topK() < vocab;
    boolean limitP = params.topP() < 1;
    if (!limitK && !limitP) {
      return drawFromAll(logits, max, temperature, u);
    }

    int[] candidates; // (n) token ids, most likely first
    double[] weights; // (n) their unnormalised probabilities
    double total; // the mass that top-p is a fraction of
    int kept;
    if (limitK) {
      candidates = topCandidates(logits, params.topK());
      weights = weights(logits, candidates, max, temperature);
      total = sum(weights, candidates.length);
      kept = limitP ? nucleusSize(weights, total, params.topP()) : candidates.length;
    } else {
      total = sumAll(logits, max, temperature);
      int ranked = Math.min(vocab, FIRST_NUCLEUS_GUESS);
      while (true) {
        candidates = topCandidates(logits, ranked);
        weights = weights(logits, candidates, max, temperature);
        kept = nucleusSize(weights, total, params.topP());
        if (kept < ranked || ranked == vocab) {
          break;
        }
        ranked = (int) Math.min(vocab, (long) ranked * NUCLEUS_GROWTH);
      }
    }
    double keptTotal = sum(weights, kept);
    return candidates[drawIndex(weights, kept, keptTotal, u)];
  }

  /** The largest logit; rejects what would make the softmax meaningless. */
  private static float checkedMax(float[] logits) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("logits are empty");
    }
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < logits.length; i++) {
      float l = logits[i];
      if (Float.isNaN(l) || l == Float.POSITIVE_INFINITY) {
        throw new IllegalArgumentException(
            "logits[" + i + "] is " + l + "; logits must be finite or -Infinity");
      }
      max = Math.max(max, l);
    }
    if (max == Float.NEGATIVE_INFINITY) {
      throw new IllegalArgumentException("all " + logits.length + " logits are -Infinity");
    }
    return max;
  }

  /** The first index of the largest logit: ties go to the lowest id. */
  private static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double weight(float logit, float max, double temperature) {
    return PortableExp.exp(((double) logit - max) / temperature);
  }

  /** No top-k, no top-p: inverse CDF over the whole vocabulary in id order. */
  private static int drawFromAll(float[] logits, float max, double temperature, double u) {
    double[] weights = new double[logits.length]; // (vocab)
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      weights[i] = weight(logits[i], max, temperature);
      total += weights[i];
    }
    return drawIndex(weights, logits.length, total, u);
  }

  private static double sumAll(float[] logits, float max, double temperature) {
    double total = 0;
    for (float logit : logits) {
      total += weight(logit, max, temperature);
    }
    return total;
  }

  private static double[] weights(float[] logits, int[] ids, float max, double temperature) {
    double[] weights = new double[ids.length];
    for (int r = 0; r < ids.length; r++) {
      weights[r] = weight(logits[ids[r]], max, temperature);
    }
    return weights;
  }

  /** The sum of the first {@code n} weights, in order. */
  private static double sum(double[] weights, int n) {
    double total = 0;
    for (int r = 0; r < n; r++) {
      total += weights[r];
    }
    return total;
  }

  /**
   * How many of the ranked weights the nucleus keeps: each while the mass before it is below
   * {@code topP * total}. Returns {@code weights.length} when the nucleus may extend beyond them.
   */
  private static int nucleusSize(double[] weights, double total, double topP) {
    double threshold = topP * total;
    double before = 0;
    for (int r = 0; r < weights.length; r++) {
      if (before >= threshold) {
        return r;
      }
      before += weights[r];
    }
    return weights.length;
  }

  /** Inverse CDF: the first index whose cumulative weight exceeds {@code u * total}. */
  private static int drawIndex(double[] weights, int n, double total, double u) {
    double target = u * total;
    double cumulative = 0;
    int lastPositive = 0;
    for (int r = 0; r < n; r++) {
      cumulative += weights[r];
      if (weights[r] > 0) {
        lastPositive = r;
      }
      if (target < cumulative) {
        return r;
      }
    }
    return lastPositive; // u * total rounded up to total
  }

  /**
   * The ids of the {@code n} largest logits, largest first, ties to the lower id. A bounded
   * min-heap of rank keys: O(V log n) instead of sorting the vocabulary.
   */
  static int[] topCandidates(float[] logits, int n) {
    if ((long) n * FULL_SORT_FRACTION >= logits.length) {
      return sortedCandidates(logits, n);
    }
    long[] heap = new long[n]; // rank keys; heap[0] is the weakest kept
    for (int i = 0; i < n; i++) {
      heap[i] = rankKey(logits[i], i);
    }
    for (int i = n / 2 - 1; i >= 0; i--) {
      siftDown(heap, i);
    }
    for (int i = n; i < logits.length; i++) {
      long key = rankKey(logits[i], i);
      if (key > heap[0]) {
        heap[0] = key;
        siftDown(heap, 0);
      }
    }
    Arrays.sort(heap);
    int[] ids = new int[n];
    for (int r = 0; r < n; r++) {
      ids[r] = idOf(heap[n - 1 - r]);
    }
    return ids;
  }

  /** The same as {@link #topCandidates} by sorting every rank key: faster when n nears V. */
  private static int[] sortedCandidates(float[] logits, int n) {
    long[] keys = new long[logits.length];
    for (int i = 0; i < logits.length; i++) {
      keys[i] = rankKey(logits[i], i);
    }
    Arrays.sort(keys);
    int[] ids = new int[n];
    for (int r = 0; r < n; r++) {
      ids[r] = idOf(keys[logits.length - 1 - r]);
    }
    return ids;
  }

  /**
   * A long that orders tokens as the sampler ranks them: higher logit first, then lower id. High
   * 32 bits: the logit's bits made order-preserving as a signed int; low 32 bits: MAX_VALUE - id.
   */
  private static long rankKey(float logit, int id) {
    int bits = Float.floatToIntBits(logit + 0.0f); // + 0.0f turns -0.0 into +0.0
    int ordered = bits < 0 ? bits ^ Integer.MAX_VALUE : bits;
    return ((long) ordered << 32) | (Integer.MAX_VALUE - id);
  }

  private static int idOf(long rankKey) {
    return Integer.MAX_VALUE - (int) (rankKey & 0xffffffffL);
  }

  private static void siftDown(long[] heap, int i) {
    int n = heap.length;
    while (true) {
      int child = 2 * i + 1;
      if (child >= n) {
        return;
      }
      if (child + 1 < n && heap[child + 1] < heap[child]) {
        child++;
      }
      if (heap[i] <= heap[child]) {
        return;
      }
      long swap = heap[i];
      heap[i] = heap[child];
      heap[child] = swap;
      i = child;
    }
  }
}
