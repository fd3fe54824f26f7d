package io.moeflink.engine.generate;

import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.model.ForwardPass;
import io.moeflink.engine.moe.ExpertBatch;
import io.moeflink.engine.moe.ExpertShard;
import io.moeflink.engine.moe.MoeDispatch;
import java.util.List;

/**
 * Runs a {@link ForwardPass} against expert shards in this process: the engine-only path used by
 * {@code generate}, tests and benchmarks. The Flink job replaces only this transport.
 */
public final class LocalExchange {
  private final List<ExpertShard> shards;

  public LocalExchange(List<ExpertShard> shards) {
    this.shards = List.copyOf(shards);
  }

  /** Drives the pass to completion. */
  public void run(ForwardPass pass, KernelBackend kernels) {
    MoeDispatch dispatch;
    while ((dispatch = pass.advance()) != null) {
      ExpertBatch[] batches = dispatch.batches();
      for (int s = 0; s < batches.length; s++) {
        if (batches[s] != null) {
          pass.accept(s, shards.get(s).compute(kernels, batches[s]));
        }
      }
    }
  }

  public List<ExpertShard> shards() {
    return shards;
  }
}
