package io.moeflink.workbench.modelgen;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moeflink.workbench.quantize.CompressedTensorsConfig;
import io.moeflink.workbench.quantize.IntQuantization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON files of a Hugging Face checkpoint: {@code config.json} with every {@code
 * DeepseekV3Config} key in the order DeepSeek ships them, and {@code model.safetensors.index.json}.
 * Indented the way Python's {@code json.dump(indent=2)} writes them, so the files diff cleanly
 * against real ones.
 */
final class HfJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final ObjectWriter PRETTY =
      JSON.writer(
          new DefaultPrettyPrinter()
              .withArrayIndenter(new DefaultIndenter("  ", "\n"))
              .withObjectIndenter(new DefaultIndenter("  ", "\n"))
              .withSeparators(
                  Separators.createDefaultInstance()
                      .withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

  /** DeepSeek-V3 hard-codes this epsilon; writing the same value keeps HF and reference equal. */
  private static final double RMS_NORM_EPS = 1e-6;

  /** V3.2-Exp's {@code index_topk}: dense attention up to this many positions. */
  static final int INDEX_TOPK = 2048;

  private HfJson() {}

  static ObjectNode config(ModelShape shape, WeightFormat format) {
    return config(shape, format, format.defaultQuantization());
  }

  static ObjectNode config(ModelShape shape, WeightFormat format, IntQuantization ints) {
    return config(shape, format, ints, CheckpointFamily.V3);
  }

  /** The config of {@code family}: its model_type, architecture, router keys and indexer keys. */
  static ObjectNode config(ModelShape shape, WeightFormat format, IntQuantization ints, CheckpointFamily family) {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add(family.architecture());
    c.put("model_type", family.modelType());
    c.put("attention_bias", false);
    c.put("attention_dropout", 0.0);
    c.put("bos_token_id", 0);
    c.put("eos_token_id", 1);
    c.put("ep_size", 1);
    c.put("hidden_act", "silu");
    c.put("initializer_range", 0.02);
    c.put("moe_layer_freq", 1);
    c.put("num_nextn_predict_layers", 0);
    c.put("pretraining_tp", 1);
    c.put("rms_norm_eps", RMS_NORM_EPS);
    c.put("scoring_func", family.scoringFunc());
    c.put("topk_method", family.topkMethod());
    c.put("norm_topk_prob", family.normTopkProb());
    c.put("seq_aux", true);
    c.put("aux_loss_alpha", 0.001);
    c.put("tie_word_embeddings", false);
    c.put("torch_dtype", "bfloat16");
    c.put("use_cache", true);
    c.put("vocab_size", shape.vocabSize());
    c.put("hidden_size", shape.hiddenSize());
    c.put("intermediate_size", shape.intermediateSize());
    c.put("moe_intermediate_size", shape.moeIntermediateSize());
    c.put("num_hidden_layers", shape.numHiddenLayers());
    c.put("first_k_dense_replace", shape.firstKDenseReplace());
    c.put("num_attention_heads", shape.numAttentionHeads());
    c.put("num_key_value_heads", shape.numAttentionHeads());
    c.put("n_shared_experts", shape.nSharedExperts());
    c.put("n_routed_experts", shape.nRoutedExperts());
    c.put("num_experts_per_tok", shape.numExpertsPerTok());
    c.put("n_group", shape.nGroup());
    c.put("topk_group", shape.topkGroup());
    c.put("routed_scaling_factor", shape.routedScalingFactor());
    if (shape.hasQueryLora()) {
      c.put("q_lora_rank", shape.qLoraRank());
    } else {
      c.putNull("q_lora_rank");
    }
    c.put("kv_lora_rank", shape.kvLoraRank());
    c.put("qk_nope_head_dim", shape.qkNopeHeadDim());
    c.put("qk_rope_head_dim", shape.qkRopeHeadDim());
    c.put("v_head_dim", shape.vHeadDim());
    c.put("rope_theta", shape.ropeTheta());
    c.put("max_position_embeddings", shape.maxPositionEmbeddings());
    ModelShape.Yarn yarn = shape.ropeScaling();
    if (yarn == null) {
      c.putNull("rope_scaling");
    } else {
      ObjectNode r = c.putObject("rope_scaling");
      r.put("type", "yarn");
      r.put("factor", yarn.factor());
      r.put("original_max_position_embeddings", yarn.originalMaxPositionEmbeddings());
      putNumber(r, "beta_fast", yarn.betaFast());
      putNumber(r, "beta_slow", yarn.betaSlow());
      r.put("mscale", yarn.mscale());
      r.put("mscale_all_dim", yarn.mscaleAllDim());
    }
    if (family.indexer()) {
      c.put("index_n_heads", CheckpointFamily.INDEX_HEADS);
      c.put("index_head_dim", CheckpointFamily.INDEX_HEAD_DIM);
      c.put("index_topk", Math.min(INDEX_TOPK, shape.maxPositionEmbeddings()));
    }
    if (ints != null && (format == WeightFormat.INT8 || format == WeightFormat.INT4)) {
      CompressedTensorsConfig.write(c.putObject("quantization_config"), ints);
    }
    if (format == WeightFormat.FP8) {
      ObjectNode q = c.putObject("quantization_config");
      q.put("quant_method", "fp8");
      q.put("fmt", "e4m3");
      q.put("activation_scheme", "dynamic");
      q.putArray("weight_block_size").add(Fp8BlockQuantizer.BLOCK).add(Fp8BlockQuantizer.BLOCK);
      if (family.ue8m0Scales()) {
        q.put("scale_fmt", "ue8m0");
      }
    }
    return c;
  }

  /** The shard index: total tensor bytes and, sorted by name, the file of every tensor. */
  static ObjectNode index(long totalSize, Map<String, String> fileByTensor) {
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", totalSize);
    ObjectNode weightMap = index.putObject("weight_map");
    new TreeMap<>(fileByTensor).forEach(weightMap::put);
    return index;
  }

  static void write(Path file, JsonNode json) throws IOException {
    Files.writeString(file, PRETTY.writeValueAsString(json) + "\n");
  }

  /** DeepSeek writes the betas as integers; keep that form when the value is integral. */
  private static void putNumber(ObjectNode node, String key, double value) {
    if (value == Math.rint(value) && Math.abs(value) < Integer.MAX_VALUE) {
      node.put(key, (int) value);
    } else {
      node.put(key, value);
    }
  }
}
