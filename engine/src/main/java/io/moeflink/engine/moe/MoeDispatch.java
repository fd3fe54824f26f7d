package io.moeflink.engine.moe;

/**
 * What a {@link ForwardPass} needs computed before it can continue: one {@link ExpertBatch} per
 * shard ({@code null} for shards that no token of this layer needs).
 */
public record MoeDispatch(int layer, ExpertBatch[] batches) {

  /** Number of shards that receive a batch. */
  public int shardsInvolved() {
    int n = 0;
    for (ExpertBatch b : batches) {
      if (b != null) {
        n++;
      }
    }
    return n;
  }
}
