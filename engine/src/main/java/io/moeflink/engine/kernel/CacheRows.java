package io.moeflink.engine.kernel;

/**
 * For each token row of a pass, at one layer: its sequence's latent cache {@code (positions,
 * kvLoraRank)}, its rotary-key cache {@code (positions, qkRopeHeadDim)} and its position. Rows of
 * one sequence share buffers; row {@code i} attends to positions {@code 0 .. positions[i]}.
 */
public record CacheRows(Activations[] latents, Activations[] ropeKeys, int[] positions) {

  public CacheRows {
    if (latents.length != positions.length || ropeKeys.length != positions.length) {
      throw new IllegalArgumentException(
          "Cache rows: " + latents.length + " latent and " + ropeKeys.length + " rotary-key buffers for "
              + positions.length + " positions");
    }
  }

  public int rows() {
    return positions.length;
  }
}
