package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import java.util.Arrays;

/**
 * One sequence's attention cache in MLA's absorbed form: per layer and position only the
 * normalised KV latent {@code c} and the rotated shared key {@code k_pe} (never per-head keys or
 * values). Grows on demand; never snapshotted (recovery re-prefills instead).
 */
public final class LatentKvCache {
  private static final int INITIAL_CAPACITY = 16;

  private final int rank;
  private final int ropeDim;
  private final int maxPositions;
  private final float[][] latent; // (layers)(capacity, kvLoraRank)
  private final float[][] ropeKeys; // (layers)(capacity, qkRopeHeadDim)
  private int capacity;
  private int length;

  public LatentKvCache(ModelConfig config) {
    this.rank = config.kvLoraRank();
    this.ropeDim = config.qkRopeHeadDim();
    this.maxPositions = config.maxPositionEmbeddings();
    this.latent = new float[config.numHiddenLayers()][];
    this.ropeKeys = new float[config.numHiddenLayers()][];
    this.capacity = 0;
    ensureCapacity(INITIAL_CAPACITY);
  }

  /** Positions committed so far: the next token goes at this position. */
  public int length() {
    return length;
  }

  void ensureCapacity(int positions) {
    if (positions > maxPositions) {
      throw new IllegalArgumentException(
          "Sequence would reach " + positions + " positions, past max_position_embeddings " + maxPositions);
    }
    if (positions <= capacity) {
      return;
    }
    int grown = Math.min(maxPositions, Math.max(positions, capacity * 2));
    for (int l = 0; l < latent.length; l++) {
      latent[l] = latent[l] == null ? new float[grown * rank] : Arrays.copyOf(latent[l], grown * rank);
      ropeKeys[l] = ropeKeys[l] == null ? new float[grown * ropeDim] : Arrays.copyOf(ropeKeys[l], grown * ropeDim);
    }
    capacity = grown;
  }

  float[] latent(int layer) {
    return latent[layer];
  }

  float[] ropeKeys(int layer) {
    return ropeKeys[layer];
  }

  void commit(int newLength) {
    this.length = newLength;
  }

  /** Forgets everything (the sequence restarts from position 0). */
  public void clear() {
    this.length = 0;
  }
}
