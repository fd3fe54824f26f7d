package io.moeflink.engine.moe;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.List;

/**
 * One routed expert: the SwiGLU network {@code down(silu(gate(x)) * up(x))} (DeepSeek's {@code
 * Expert}; the dense model's MLP is the same network on the other side of the seam).
 */
public final class Expert {
  private final WeightMatrix gate; // (I, D)
  private final WeightMatrix up; // (I, D)
  private final WeightMatrix down; // (D, I)

  private Expert(WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
    this.gate = gate;
    this.up = up;
    this.down = down;
  }

  /** Loads {@code prefix + {gate,up,down}_proj.weight}. */
  static Expert load(Checkpoint ck, String prefix, int hidden, int intermediate) {
    return new Expert(
        WeightMatrix.load(ck, prefix + "gate_proj.weight", intermediate, hidden),
        WeightMatrix.load(ck, prefix + "up_proj.weight", intermediate, hidden),
        WeightMatrix.load(ck, prefix + "down_proj.weight", hidden, intermediate));
  }

  int intermediateSize() {
    return gate.rows();
  }

  /**
   * @param x (n, D) the rows routed to this expert
   * @param y (n, D), overwritten
   * @param g (n, I) scratch
   * @param u (n, I) scratch
   */
  void forward(KernelBackend k, Activations x, int n, Activations y, Activations g, Activations u) {
    k.matmul(gate, x, n, g);
    k.matmul(up, x, n, u);
    k.siluMultiply(g, u, n * intermediateSize());
    k.matmul(down, g, n, y);
  }

  /** Bytes of weights one forward reads. */
  long bytes() {
    return WeightMatrix.bytes(weights());
  }

  /** Its three projections. */
  List<WeightMatrix> weights() {
    return List.of(gate, up, down);
  }
}
