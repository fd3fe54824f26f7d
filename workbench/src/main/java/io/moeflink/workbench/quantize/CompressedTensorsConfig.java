package io.moeflink.workbench.quantize;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code quantization_config} of a compressed-tensors {@code pack-quantized} checkpoint, as
 * llm-compressor writes it: one group of weight-only integer schemes for the linear layers, with
 * the LM head and the MoE routers left out.
 */
public final class CompressedTensorsConfig {
  private CompressedTensorsConfig() {}

  /** Fills {@code q} (an empty object) with the config of {@code ints}. */
  public static void write(ObjectNode q, IntQuantization ints) {
    q.put("quant_method", "compressed-tensors");
    q.put("format", "pack-quantized");
    q.put("quantization_status", "compressed");
    ObjectNode group = q.putObject("config_groups").putObject("group_0");
    group.putArray("targets").add("Linear");
    ObjectNode weights = group.putObject("weights");
    weights.put("num_bits", ints.bits());
    weights.put("type", "int");
    weights.put("symmetric", ints.symmetric());
    weights.put("strategy", ints.groupSize() == 0 ? "channel" : "group");
    if (ints.groupSize() == 0) {
      weights.putNull("group_size");
    } else {
      weights.put("group_size", ints.groupSize());
    }
    weights.put("dynamic", false);
    group.putNull("input_activations");
    q.putArray("ignore").add("lm_head").add("re:.*mlp\\.gate$");
  }
}
