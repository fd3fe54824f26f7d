package io.moeflink.engine.model;

import io.moeflink.engine.config.ModelConfig;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;

/**
 * One sequence's attention cache in MLA's absorbed form: per layer and position only the
 * normalised KV latent {@code c} and the rotated shared key {@code k_pe} (never per-head keys or
 * values), held by the backend that computes with it (device memory on a GPU). Grows on demand;
 * never snapshotted (recovery re-prefills instead). {@link #release()} frees it.
 */
public final class LatentKvCache {
  private static final int INITIAL_CAPACITY = 16;

  private final KernelBackend kernels;
  private final int rank;
  private final int ropeDim;
  private final int maxPositions;
  private final Activations[] latent; // (layers)(capacity, kvLoraRank)
  private final Activations[] ropeKeys; // (layers)(capacity, qkRopeHeadDim)
  private int capacity;
  private int length;

  public LatentKvCache(ModelConfig config, KernelBackend kernels) {
    this(config, kernels, config.numHiddenLayers());
  }

  /** A cache of {@code layers} layers: the main ones, and the MTP module's after them. */
  public LatentKvCache(ModelConfig config, KernelBackend kernels, int layers) {
    this.kernels = kernels;
    this.rank = config.kvLoraRank();
    this.ropeDim = config.qkRopeHeadDim();
    this.maxPositions = config.maxPositionEmbeddings();
    this.latent = new Activations[layers];
    this.ropeKeys = new Activations[layers];
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
      latent[l] = grow(latent[l], capacity * rank, grown * rank);
      ropeKeys[l] = grow(ropeKeys[l], capacity * ropeDim, grown * ropeDim);
    }
    capacity = grown;
  }

  private Activations grow(Activations old, int used, int floats) {
    Activations bigger = kernels.allocate(floats);
    if (old != null) {
      kernels.copy(old, 0, bigger, 0, used);
      old.close();
    }
    return bigger;
  }

  Activations latent(int layer) {
    return latent[layer];
  }

  Activations ropeKeys(int layer) {
    return ropeKeys[layer];
  }

  void commit(int newLength) {
    this.length = newLength;
  }

  /**
   * Forgets the positions from {@code newLength} on: a rejected draft token's. Their rows stay
   * until the next tokens overwrite them.
   */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > length) {
      throw new IllegalArgumentException("Cannot truncate a cache of " + length + " positions to " + newLength);
    }
    this.length = newLength;
  }

  /** Forgets everything (the sequence restarts from position 0). */
  public void clear() {
    this.length = 0;
  }

  /** Frees the buffers (device memory at once); the cache must not be used afterwards. */
  public void release() {
    for (int l = 0; l < latent.length; l++) {
      latent[l].close();
      ropeKeys[l].close();
    }
    length = 0;
  }
}
