package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.List;

/**
 * The SwiGLU feed-forward network of the dense layers and of the shared experts: {@code
 * down(silu(gate(x)) * up(x))}; silu goes on {@code gate_proj} (w1), not {@code up_proj} (w3)
 * (trap 11). DeepSeek's reference has the same network twice, as {@code MLP} and as the routed
 * {@code Expert}; so does this engine ({@link io.moeflink.engine.moe.Expert}), so that the expert
 * shards need nothing of the dense model.
 */
final class Mlp implements FeedForward {
  private final WeightMatrix gate; // (I, D)
  private final WeightMatrix up; // (I, D)
  private final WeightMatrix down; // (D, I)

  Mlp(WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
    this.gate = gate;
    this.up = up;
    this.down = down;
  }

  /** Loads {@code prefix + {gate,up,down}_proj.weight}. */
  static Mlp load(Checkpoint ck, String prefix, int hidden, int intermediate) {
    return new Mlp(
        WeightMatrix.load(ck, prefix + "gate_proj.weight", intermediate, hidden),
        WeightMatrix.load(ck, prefix + "up_proj.weight", intermediate, hidden),
        WeightMatrix.load(ck, prefix + "down_proj.weight", hidden, intermediate));
  }

  /** Width of the hidden layer {@code I}. */
  int intermediateSize() {
    return gate.rows();
  }

  /**
   * @param x (n, D)
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

  @Override
  public List<WeightMatrix> weights() {
    return List.of(gate, up, down);
  }
}
