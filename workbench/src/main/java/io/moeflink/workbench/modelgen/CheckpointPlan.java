package io.moeflink.workbench.modelgen;

import io.moeflink.workbench.modelgen.WeightSpec.Storage;
import io.moeflink.workbench.quantize.IntQuantization;
import java.util.ArrayList;
import java.util.List;

/**
 * Every weight of a DeepSeek-V3 checkpoint of a given shape and format, in the order real
 * checkpoints store them: embedding, then per layer its norms, attention ({@code self_attn}) and
 * MLP or mixture of experts ({@code mlp}), then the final norm and the LM head.
 *
 * <p>The initial scales keep activations sane through many layers without any training: every
 * projection is drawn with {@code std = 1/sqrt(fan_in)}, so a unit-RMS input gives a unit-RMS
 * output; norm weights sit around 1; the embedding is N(0, 1) (each block re-normalises it); the
 * router's logits then spread with unit variance, so sigmoid scores differ per token and many
 * experts get chosen, and the small router bias shifts selection without dominating it.
 */
record CheckpointPlan(List<WeightSpec> weights) {

  private static final float NORM_MEAN = 1f;
  private static final float NORM_STD = 0.05f;
  private static final float EMBEDDING_STD = 1f;
  private static final float ROUTER_BIAS_STD = 0.05f;

  CheckpointPlan {
    weights = List.copyOf(weights);
  }

  static CheckpointPlan of(ModelShape shape, WeightFormat format) {
    return of(shape, format, format.defaultQuantization());
  }

  /** {@code ints}: the integer quantization of the projections for INT8 and INT4, else ignored. */
  static CheckpointPlan of(ModelShape shape, WeightFormat format, IntQuantization ints) {
    return of(shape, format, ints, false);
  }

  /** With {@code mtp}, also an MTP module as layer {@code num_hidden_layers}, laid out as DeepSeek's. */
  static CheckpointPlan of(ModelShape shape, WeightFormat format, IntQuantization ints, boolean mtp) {
    return of(shape, format, ints, mtp, CheckpointFamily.V3);
  }

  /** With the tensor names of {@code family}: V2's routers have no bias, V3.2-Exp's layers an indexer. */
  static CheckpointPlan of(
      ModelShape shape, WeightFormat format, IntQuantization ints, boolean mtp, CheckpointFamily family) {
    return new Builder(shape, format, ints, family).build(mtp);
  }

  /** Elements of all weights; FP8 scales are not parameters. */
  long parameterCount() {
    long count = 0;
    for (WeightSpec weight : weights) {
      count = Math.addExact(count, weight.elements());
    }
    return count;
  }

  /** Collects the weights layer by layer. */
  private static final class Builder {
    private final ModelShape shape;
    private final Storage projectionStorage;
    private final IntQuantization ints; // for INT_PACKED projections
    private final CheckpointFamily family;
    private final List<WeightSpec> weights = new ArrayList<>();

    Builder(ModelShape shape, WeightFormat format, IntQuantization ints, CheckpointFamily family) {
      this.shape = shape;
      this.family = family;
      this.projectionStorage = switch (format) {
        case FP8 -> Storage.FP8_BLOCKS;
        case INT8, INT4 -> Storage.INT_PACKED;
        case BF16 -> Storage.BF16;
      };
      this.ints = projectionStorage == Storage.INT_PACKED ? ints : null;
    }

    CheckpointPlan build(boolean mtp) {
      int d = shape.hiddenSize();
      add("model.embed_tokens.weight", Storage.BF16, 0, EMBEDDING_STD, shape.vocabSize(), d);
      for (int layer = 0; layer < shape.numHiddenLayers(); layer++) {
        String prefix = "model.layers." + layer + ".";
        norm(prefix + "input_layernorm.weight", d);
        attention(prefix + "self_attn.");
        norm(prefix + "post_attention_layernorm.weight", d);
        if (layer < shape.firstKDenseReplace()) {
          mlp(prefix + "mlp.", shape.intermediateSize());
        } else {
          mixtureOfExperts(prefix + "mlp.");
        }
      }
      norm("model.norm.weight", d);
      add("lm_head.weight", Storage.BF16, 0, fanInStd(d), shape.vocabSize(), d);
      if (mtp) {
        mtpModule("model.layers." + shape.numHiddenLayers() + ".");
      }
      return new CheckpointPlan(weights);
    }

    /**
     * DeepSeek-V3's MTP module: its norms, {@code eh_proj} (D, 2D), one MoE block and the head
     * norm, with exact copies of the embedding and the LM head (the report shares them).
     */
    private void mtpModule(String prefix) {
      int d = shape.hiddenSize();
      weights.add(new WeightSpec(prefix + "embed_tokens.weight", List.of((long) shape.vocabSize(), (long) d),
          Storage.BF16, 0, EMBEDDING_STD, null, "model.embed_tokens.weight"));
      norm(prefix + "enorm.weight", d);
      norm(prefix + "hnorm.weight", d);
      projection(prefix + "eh_proj.weight", d, 2 * d);
      norm(prefix + "input_layernorm.weight", d);
      attention(prefix + "self_attn.");
      norm(prefix + "post_attention_layernorm.weight", d);
      mixtureOfExperts(prefix + "mlp.");
      norm(prefix + "shared_head.norm.weight", d);
      weights.add(new WeightSpec(prefix + "shared_head.head.weight", List.of((long) shape.vocabSize(), (long) d),
          Storage.BF16, 0, fanInStd(d), null, "lm_head.weight"));
    }

    /** Multi-head latent attention: low-rank query (or plain q_proj) and a shared KV latent. */
    private void attention(String prefix) {
      int d = shape.hiddenSize();
      int heads = shape.numAttentionHeads();
      int qHeadDim = shape.qkNopeHeadDim() + shape.qkRopeHeadDim();
      int kvHeadDim = shape.qkNopeHeadDim() + shape.vHeadDim();
      if (shape.hasQueryLora()) {
        projection(prefix + "q_a_proj.weight", shape.qLoraRank(), d);
        norm(prefix + "q_a_layernorm.weight", shape.qLoraRank());
        projection(
            prefix + "q_b_proj.weight", Math.multiplyExact(heads, qHeadDim), shape.qLoraRank());
      } else {
        projection(prefix + "q_proj.weight", Math.multiplyExact(heads, qHeadDim), d);
      }
      // Output is [latent r_kv | k_pe dr]; only the latent is normed.
      projection(
          prefix + "kv_a_proj_with_mqa.weight", shape.kvLoraRank() + shape.qkRopeHeadDim(), d);
      norm(prefix + "kv_a_layernorm.weight", shape.kvLoraRank());
      projection(
          prefix + "kv_b_proj.weight", Math.multiplyExact(heads, kvHeadDim), shape.kvLoraRank());
      projection(prefix + "o_proj.weight", d, Math.multiplyExact(heads, shape.vHeadDim()));
      if (family.indexer()) {
        indexer(prefix + "indexer.");
      }
    }

    /**
     * DeepSeek-V3.2-Exp's lightning indexer: {@code wq_b} from the query latent, one key {@code wk}
     * with a LayerNorm {@code k_norm} (weight and bias), and the per-head weights {@code weights_proj}.
     */
    private void indexer(String prefix) {
      int d = shape.hiddenSize();
      int heads = CheckpointFamily.INDEX_HEADS;
      int dim = CheckpointFamily.INDEX_HEAD_DIM;
      if (!shape.hasQueryLora()) {
        throw new IllegalArgumentException("The v3.2-exp indexer reads the query latent: q_lora_rank must be positive");
      }
      projection(prefix + "wq_b.weight", heads * dim, shape.qLoraRank());
      projection(prefix + "wk.weight", dim, d);
      norm(prefix + "k_norm.weight", dim);
      add(prefix + "k_norm.bias", Storage.BF16, 0, NORM_STD, dim);
      add(prefix + "weights_proj.weight", Storage.BF16, 0, fanInStd(d), heads, d);
    }

    /** Router, its selection bias, routed experts, then the shared experts as one wide MLP. */
    private void mixtureOfExperts(String prefix) {
      int d = shape.hiddenSize();
      int experts = shape.nRoutedExperts();
      // The router is never quantised: real checkpoints keep it BF16 and its bias F32.
      add(prefix + "gate.weight", Storage.BF16, 0, fanInStd(d), experts, d);
      if (family.routerBias()) {
        add(prefix + "gate.e_score_correction_bias", Storage.F32, 0, ROUTER_BIAS_STD, experts);
      }
      for (int e = 0; e < experts; e++) {
        mlp(prefix + "experts." + e + ".", shape.moeIntermediateSize());
      }
      mlp(
          prefix + "shared_experts.",
          Math.multiplyExact(shape.moeIntermediateSize(), shape.nSharedExperts()));
    }

    private void mlp(String prefix, int intermediate) {
      int d = shape.hiddenSize();
      projection(prefix + "gate_proj.weight", intermediate, d);
      projection(prefix + "up_proj.weight", intermediate, d);
      projection(prefix + "down_proj.weight", d, intermediate);
    }

    private void projection(String name, int out, int in) {
      weights.add(new WeightSpec(name, List.of((long) out, (long) in), projectionStorage, 0, fanInStd(in), ints));
    }

    private void norm(String name, int size) {
      add(name, Storage.BF16, NORM_MEAN, NORM_STD, size);
    }

    private void add(String name, Storage storage, float mean, float std, long... dims) {
      List<Long> dimList = new ArrayList<>();
      for (long dim : dims) {
        dimList.add(dim);
      }
      weights.add(new WeightSpec(name, dimList, storage, mean, std));
    }

    private static float fanInStd(int fanIn) {
      return (float) (1 / Math.sqrt(fanIn));
    }
  }
}
