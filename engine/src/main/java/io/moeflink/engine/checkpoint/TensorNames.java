package io.moeflink.engine.checkpoint;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Hugging Face tensor names of a DeepSeek-V3 checkpoint. */
public final class TensorNames {
  private TensorNames() {}

  public static String layer(int layer) {
    return "model.layers." + layer + ".";
  }

  public static String attention(int layer, String projection) {
    return layer(layer) + "self_attn." + projection;
  }

  public static String mlp(int layer, String projection) {
    return layer(layer) + "mlp." + projection;
  }

  /** DeepSeek-V3.2-Exp's indexer projections: query from the q latent, one key, per-head weights. */
  public static final List<String> INDEXER_MATRICES = List.of("wq_b.weight", "wk.weight", "weights_proj.weight");

  /** {@code model.layers.L.self_attn.indexer.} + {@code suffix} (DeepSeek-V3.2-Exp). */
  public static String indexer(int layer, String suffix) {
    return attention(layer, "indexer." + suffix);
  }

  /** {@code model.layers.L.mlp.experts.E.} */
  public static String expert(int layer, int expert) {
    return layer(layer) + "mlp.experts." + expert + ".";
  }

  /** A tensor of the MTP module, stored as layer {@code num_hidden_layers}: {@code suffix} after the layer prefix. */
  public static String mtp(ModelConfig c, String suffix) {
    return layer(c.numHiddenLayers()) + suffix;
  }

  /**
   * Every tensor the MTP module reads: its norms, {@code eh_proj}, the head norm, and the block of
   * layer {@code num_hidden_layers} (attention, router, shared experts; the routed experts belong
   * to the shards). The module's copies of the embedding and the head are not read.
   */
  public static Set<String> expectedMtp(ModelConfig c, Checkpoint checkpoint) {
    int l = c.numHiddenLayers();
    Set<String> names = new LinkedHashSet<>();
    for (String suffix : new String[] {"enorm.weight", "hnorm.weight", "shared_head.norm.weight",
        "input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate.weight"}) {
      names.add(mtp(c, suffix));
    }
    if (c.topkMethod().hasCorrectionBias()) {
      names.add(mtp(c, "mlp.gate.e_score_correction_bias"));
    }
    names.addAll(storedAs(mtp(c, "eh_proj.weight"), checkpoint));
    if (c.hasQueryLora()) {
      names.add(attention(l, "q_a_layernorm.weight"));
    }
    names.add(attention(l, "kv_a_layernorm.weight"));
    for (String p : projections(c, l)) {
      if (!p.contains(".experts.")) {
        names.addAll(storedAs(p, checkpoint));
      }
    }
    return names;
  }

  /**
   * The projections of every layer, the matrices the kernels multiply by: what a checkpoint may
   * store as FP8 or as integers. Embeddings, the LM head and the routers are not among them.
   */
  public static List<String> projections(ModelConfig c) {
    List<String> names = new ArrayList<>();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      names.addAll(projections(c, l));
    }
    return names;
  }

  /** The projections (weights that may be FP8 with a {@code weight_scale_inv}) of one layer. */
  static List<String> projections(ModelConfig c, int layer) {
    List<String> names = new ArrayList<>();
    if (c.hasQueryLora()) {
      names.add(attention(layer, "q_a_proj.weight"));
      names.add(attention(layer, "q_b_proj.weight"));
    } else {
      names.add(attention(layer, "q_proj.weight"));
    }
    names.add(attention(layer, "kv_a_proj_with_mqa.weight"));
    names.add(attention(layer, "kv_b_proj.weight"));
    names.add(attention(layer, "o_proj.weight"));
    if (!c.isMoeLayer(layer)) {
      addMlp(names, layer(layer) + "mlp.");
      return names;
    }
    if (c.nSharedExperts() > 0) {
      addMlp(names, layer(layer) + "mlp.shared_experts.");
    }
    for (int e = 0; e < c.nRoutedExperts(); e++) {
      addMlp(names, expert(layer, e));
    }
    return names;
  }

  private static void addMlp(List<String> names, String prefix) {
    names.add(prefix + "gate_proj.weight");
    names.add(prefix + "up_proj.weight");
    names.add(prefix + "down_proj.weight");
  }

  /**
   * The tensors projection {@code p} is stored in: the weight, plus FP8's {@code weight_scale_inv};
   * or compressed-tensors' {@code weight_packed}, {@code weight_scale}, and where present {@code
   * weight_shape} and {@code weight_zero_point}; or an I8 weight with its scale (and zero point).
   */
  static List<String> storedAs(String p, Checkpoint checkpoint) {
    List<String> names = new ArrayList<>();
    if (checkpoint.contains(p + "_packed")) {
      names.add(p + "_packed");
      names.add(p + "_scale");
      for (String optional : new String[] {"_shape", "_zero_point"}) {
        if (checkpoint.contains(p + optional)) {
          names.add(p + optional);
        }
      }
      return names;
    }
    names.add(p);
    DType dtype = checkpoint.contains(p) ? checkpoint.tensor(p).dtype() : null;
    if (dtype == DType.F8_E4M3) {
      names.add(p + "_scale_inv");
    } else if (dtype == DType.I8) {
      names.add(p + "_scale");
      if (checkpoint.contains(p + "_zero_point")) {
        names.add(p + "_zero_point");
      }
    }
    return names;
  }

  /**
   * Every tensor the model reads: norms, router, embeddings, head, projections and, for each
   * projection stored as FP8, its {@code weight_scale_inv}.
   */
  public static Set<String> expected(ModelConfig c, Checkpoint checkpoint) {
    Set<String> names = new LinkedHashSet<>();
    names.add("model.embed_tokens.weight");
    names.add("model.norm.weight");
    names.add("lm_head.weight");
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      names.add(layer(l) + "input_layernorm.weight");
      names.add(layer(l) + "post_attention_layernorm.weight");
      if (c.hasQueryLora()) {
        names.add(attention(l, "q_a_layernorm.weight"));
      }
      names.add(attention(l, "kv_a_layernorm.weight"));
      if (c.isMoeLayer(l)) {
        names.add(mlp(l, "gate.weight"));
        if (c.topkMethod().hasCorrectionBias()) {
          names.add(mlp(l, "gate.e_score_correction_bias"));
        }
      }
      for (String p : projections(c, l)) {
        names.addAll(storedAs(p, checkpoint));
      }
      if (c.indexer() != null) {
        for (String m : INDEXER_MATRICES) {
          names.addAll(storedAs(indexer(l, m), checkpoint));
        }
        names.add(indexer(l, "k_norm.weight"));
        names.add(indexer(l, "k_norm.bias"));
      }
    }
    return names;
  }
}
