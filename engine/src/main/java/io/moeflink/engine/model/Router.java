package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.TensorNames;
import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.config.RouterScoring;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.Arrays;
import java.util.List;

/**
 * The MoE gate, as DeepSeek's reference {@code Gate}. DeepSeek-V3's auxiliary-loss-free router
 * ({@code topk_method: noaux_tc}, V3 paper section 2.1.2): sigmoid affinities; the correction bias
 * is added for SELECTION only; each contiguous group scores the sum of its top-2 biased
 * affinities; the best {@code topk_group} groups are kept; the top-k experts among them by biased
 * affinity are chosen; their UNBIASED affinities are normalised and scaled by {@code
 * routed_scaling_factor} (traps 1-3). Kimi K2 and Moonlight are this router with one group.
 *
 * <p>DeepSeek-V2's: softmax affinities (float32, over all routed experts), no bias; {@code
 * group_limited_greedy} scores a group by its LARGEST affinity, {@code greedy} ignores groups;
 * weights are normalised only under {@code norm_topk_prob} (false in V2), then scaled.
 *
 * <p>The backend computes the affinities; the selection runs on the host, where the dispatch to
 * the shards is built.
 */
final class Router {
  private final ModelConfig config;
  private final WeightMatrix gate; // (E, D), never FP8
  private final float[] bias; // (E) e_score_correction_bias; null unless noaux_tc

  Router(ModelConfig config, WeightMatrix gate, float[] bias) {
    this.config = config;
    this.gate = gate;
    this.bias = bias;
  }

  static Router load(Checkpoint ck, ModelConfig c, int layer) {
    int experts = c.nRoutedExperts();
    // The bias exists wherever the method is noaux_tc, at every hidden size (Kimi K2, Moonlight)
    float[] bias = c.topkMethod().hasCorrectionBias()
        ? ck.tensor(TensorNames.mlp(layer, "gate.e_score_correction_bias"), experts).toFloatArray()
        : null;
    return new Router(c, WeightMatrix.load(ck, TensorNames.mlp(layer, "gate.weight"), experts, c.hiddenSize()), bias);
  }

  /**
   * @param x (n, D) the post-attention-normalised hidden states
   * @param scores (n, E) scratch for the affinities
   */
  Routing route(KernelBackend kernels, Activations x, int n, Activations scores) {
    int e = config.nRoutedExperts();
    int k = config.numExpertsPerTok();
    float[] all = affinities(kernels, x, n, scores); // (n, E)
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

  private float[] affinities(KernelBackend kernels, Activations x, int n, Activations scores) {
    int e = config.nRoutedExperts();
    if (config.scoring() == RouterScoring.SIGMOID) {
      kernels.routerScores(gate, x, n, scores);
      return kernels.toHost(scores, n * e);
    }
    kernels.matmul(gate, x, n, scores);
    float[] all = kernels.toHost(scores, n * e);
    for (int t = 0; t < n; t++) {
      softmax(all, t * e, e);
    }
    return all;
  }

  /** {@code softmax(dim=-1, dtype=float32)} of {@code v[from, from + n)} in place. */
  private static void softmax(float[] v, int from, int n) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = from; i < from + n; i++) {
      max = Math.max(max, v[i]);
    }
    float sum = 0f;
    for (int i = from; i < from + n; i++) {
      v[i] = (float) Math.exp(v[i] - max);
      sum += v[i];
    }
    for (int i = from; i < from + n; i++) {
      v[i] /= sum;
    }
  }

  /** Top-k by the method's selection scores, within the kept groups. */
  int[] select(float[] scores) {
    return switch (config.topkMethod()) {
      case NOAUX_TC -> selectInGroups(biased(scores), true);
      case GROUP_LIMITED_GREEDY -> selectInGroups(scores, false);
      case GREEDY -> topIndices(scores, config.numExpertsPerTok());
    };
  }

  private float[] biased(float[] scores) {
    float[] biased = new float[scores.length];
    for (int j = 0; j < scores.length; j++) {
      biased[j] = scores[j] + bias[j];
    }
    return biased;
  }

  /** Groups score the sum of their top 2 ({@code topTwo}, V3) or their maximum (V2). */
  private int[] selectInGroups(float[] biased, boolean topTwo) {
    int e = biased.length;
    int groups = config.nGroup();
    int perGroup = config.expertsPerGroup();
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
      groupScores[g] = topTwo ? first + second : first;
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

  /** The gate, the one matrix it reads. */
  List<WeightMatrix> weights() {
    return List.of(gate);
  }
}
