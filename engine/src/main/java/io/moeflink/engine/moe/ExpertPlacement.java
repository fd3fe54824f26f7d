package io.moeflink.engine.moe;

import io.moeflink.engine.config.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Which expert shard holds each routed expert of each MoE layer. The default places contiguous,
 * equally sized (+-1) runs of expert ids on each shard; since routing groups are contiguous runs
 * too, a token's experts tend to share a shard (DeepSeek's node-limited routing uses the same
 * alignment). Any table may be given instead, as long as every expert has exactly one shard.
 *
 * <p>The table covers the MoE layers and the MTP module's layer ({@code num_hidden_layers}), whose
 * experts the shards load only when speculative decoding asks for them.
 */
public final class ExpertPlacement {
  private final int shards;
  private final int firstMoeLayer;
  private final int[][] table; // (moeLayers, experts) -> shard

  private ExpertPlacement(int shards, int firstMoeLayer, int[][] table) {
    this.shards = shards;
    this.firstMoeLayer = firstMoeLayer;
    this.table = table;
  }

  /** Contiguous equal runs: expert {@code e} goes to shard {@code floor(e * S / E)}. */
  public static ExpertPlacement balanced(ModelConfig config, int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("expert shards is " + shards + ", expected at least 1");
    }
    int experts = config.nRoutedExperts();
    int[] row = new int[experts];
    for (int e = 0; e < experts; e++) {
      row[e] = (int) ((long) e * shards / experts);
    }
    int[][] table = new int[config.moeLayerCount() + 1][]; // + the MTP module's layer
    Arrays.fill(table, row);
    return new ExpertPlacement(shards, config.firstKDenseReplace(), table);
  }

  /**
   * Parses a placement: either one list of shard ids, one per expert, for every MoE layer ({@code
   * "0,0,1,1"}), or per layer {@code "3:0,0,1,1;4:1,1,0,0"} (layers not named use the balanced
   * default).
   */
  public static ExpertPlacement parse(ModelConfig config, int shards, String spec) {
    ExpertPlacement base = balanced(config, shards);
    int[][] table = base.table.clone();
    String trimmed = spec.trim();
    if (!trimmed.contains(":")) {
      Arrays.fill(table, parseRow(config, shards, trimmed, "every layer"));
    } else {
      for (String part : trimmed.split(";")) {
        String[] kv = part.trim().split(":", 2);
        int layer = Integer.parseInt(kv[0].trim());
        if (!config.isMoeLayer(layer) || layer > config.numHiddenLayers()) {
          throw new IllegalArgumentException(
              "Placement names layer " + layer + ", which is not an MoE layer (" + config.firstKDenseReplace() + ".."
                  + (config.numHiddenLayers() - 1) + ", or " + config.numHiddenLayers() + " for the MTP module)");
        }
        table[layer - config.firstKDenseReplace()] = parseRow(config, shards, kv[1], "layer " + layer);
      }
    }
    return new ExpertPlacement(shards, config.firstKDenseReplace(), table);
  }

  private static int[] parseRow(ModelConfig config, int shards, String row, String where) {
    String[] parts = row.split(",");
    if (parts.length != config.nRoutedExperts()) {
      throw new IllegalArgumentException(
          "Placement for " + where + " lists " + parts.length + " shards, expected one per expert ("
              + config.nRoutedExperts() + ")");
    }
    int[] out = new int[parts.length];
    for (int e = 0; e < parts.length; e++) {
      out[e] = Integer.parseInt(parts[e].trim());
      if (out[e] < 0 || out[e] >= shards) {
        throw new IllegalArgumentException(
            "Placement for " + where + " puts expert " + e + " on shard " + out[e] + ", expected 0.." + (shards - 1));
      }
    }
    return out;
  }

  public int shards() {
    return shards;
  }

  /** The shard holding {@code expert} of MoE layer {@code layer}. */
  public int shardOf(int layer, int expert) {
    return table[layer - firstMoeLayer][expert];
  }

  /** The experts of {@code layer} that {@code shard} holds, ascending. */
  public int[] expertsOf(int layer, int shard) {
    int[] row = table[layer - firstMoeLayer];
    return java.util.stream.IntStream.range(0, row.length).filter(e -> row[e] == shard).toArray();
  }

  /** One line per distinct layer layout, for the start-up log. */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    for (int l = 0; l < table.length; l++) {
      StringBuilder sb = new StringBuilder("layer ").append(l + firstMoeLayer).append(':');
      for (int s = 0; s < shards; s++) {
        sb.append(" shard ").append(s).append('=').append(Arrays.toString(expertsOf(l + firstMoeLayer, s)));
      }
      lines.add(sb.toString());
    }
    return lines;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExpertPlacement p && p.shards == shards && p.firstMoeLayer == firstMoeLayer
        && Arrays.deepEquals(p.table, table);
  }

  @Override
  public int hashCode() {
    return Objects.hash(shards, firstMoeLayer, Arrays.deepHashCode(table));
  }
}
