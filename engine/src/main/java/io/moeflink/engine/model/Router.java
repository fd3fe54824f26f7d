package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.Arrays;

/**
 * DeepSeek-V3's auxiliary-loss-free router ({@code topk_method: noaux_tc}, V3 paper section
 * 2.1.2): sigmoid affinities; the correction bias is added for SELECTION only; each contiguous
 * group scores the sum of its top-2 biased affinities; the best {@code topk_group} groups are
 * kept; the top-k experts among them by biased affinity are chosen; their UNBIASED affinities are
 * normalised and scaled by {@code routed_scaling_factor} (traps 1-3).
 *
 * <p>The backend computes the affinities; the selection runs on the host, where the dispatch to
 * the shards is built.
 */
final class Router {
  private final ModelConfig config;
  private final WeightMatrix gate; // (E, D), never FP8
  private final float[] bias; // (E) e_score_correction_bias

  Router(ModelConfig config, WeightMatrix gate, float[] bias) {
    this.config = config;
    this.gate = gate;
    this.bias = bias;
  }

  static Router load(Checkpoint ck, ModelConfig c, int layer) {
    int experts = c.nRoutedExperts();
    return new Router(
        c,
        WeightMatrix.load(ck, TensorNames.mlp(layer, "gate.weight"), experts, c.hiddenSize()),
        ck.tensor(TensorNames.mlp(layer, "gate.e_score_correction_bias"), experts).toFloatArray());
  }

  /**
   * @param x (n, D) the post-attention-normalised hidden states
   * @param scores (n, E) scratch for the affinities
   */
  Routing route(KernelBackend kernels, Activations x, int n, Activations scores) {
    int e = config.nRoutedExperts();
    int k = config.numExpertsPerTok();
    kernels.routerScores(gate, x, n, scores);
    float[] all = kernels.toHost(scores, n * e); // (n, E)
    int[] experts = new int[n * k];
    float[] weights = new float[n * k];
    float[] token = new float[e];
    float scale = (float) config.routedScalingFactor();
    for (int t = 0; t < n; t++) {
      System.arraycopy(all, t * e, token, 0, e);
      int[] chosen = select(token);
      Arrays.sort(chosen);
      float sum = 0f;
      for (int j = 0; j < k; j++) {
        sum += token[chosen[j]];
      }
      for (int j = 0; j < k; j++) {
        experts[t * k + j] = chosen[j];
        float w = config.normTopkProb() ? token[chosen[j]] / sum : token[chosen[j]];
        weights[t * k + j] = w * scale;
      }
    }
    return new Routing(n, k, experts, weights);
  }

  /** Group-limited top-k on the biased scores. */
  int[] select(float[] scores) {
    int e = scores.length;
    int groups = config.nGroup();
    int perGroup = config.expertsPerGroup();
    float[] biased = new float[e];
    for (int j = 0; j < e; j++) {
      biased[j] = scores[j] + bias[j];
    }
    float[] groupScores = new float[groups];
    for (int g = 0; g < groups; g++) {
      float first = Float.NEGATIVE_INFINITY;
      float second = Float.NEGATIVE_INFINITY;
      for (int j = g * perGroup; j < (g + 1) * perGroup; j++) {
        if (biased[j] > first) {
          second = first;
          first = biased[j];
        } else if (biased[j] > second) {
          second = biased[j];
        }
      }
      groupScores[g] = first + second;
    }
    boolean[] keptGroup = new boolean[groups];
    for (int g : topIndices(groupScores, config.topkGroup())) {
      keptGroup[g] = true;
    }
    float[] masked = new float[e];
    for (int j = 0; j < e; j++) {
      masked[j] = keptGroup[j / perGroup] ? biased[j] : Float.NEGATIVE_INFINITY;
    }
    return topIndices(masked, config.numExpertsPerTok());
  }

  /** Indices of the {@code k} largest values; ties go to the lower index. */
  static int[] topIndices(float[] values, int k) {
    int[] top = new int[k];
    boolean[] taken = new boolean[values.length];
    for (int i = 0; i < k; i++) {
      int best = -1;
      for (int j = 0; j < values.length; j++) {
        if (!taken[j] && (best < 0 || values[j] > values[best])) {
          best = j;
        }
      }
      taken[best] = true;
      top[i] = best;
    }
    return top;
  }

  long bytes() {
    return gate.bytes();
  }
}
