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

  /** {@code model.layers.L.mlp.experts.E.} */
  public static String expert(int layer, int expert) {
    return layer(layer) + "mlp.experts." + expert + ".";
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
        names.add(mlp(l, "gate.e_score_correction_bias"));
      }
      for (String p : projections(c, l)) {
        names.add(p);
        if (checkpoint.contains(p) && checkpoint.tensor(p).dtype() == DType.F8_E4M3) {
          names.add(p + "_scale_inv");
        }
      }
    }
    return names;
  }
}
