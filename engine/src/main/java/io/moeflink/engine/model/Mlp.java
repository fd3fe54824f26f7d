package io.moeflink.engine.model;

import io.moeflink.engine.checkpoint.Checkpoint;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;

/**
 * The SwiGLU feed-forward network used by dense layers, shared experts and routed experts:
 * {@code down(silu(gate(x)) * up(x))}; silu goes on {@code gate_proj} (w1), not {@code up_proj}
 * (w3) (trap 11).
 */
public final class Mlp {
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

  /**
   * @param x (n, D)
   * @return (n, D)
   */
  float[] forward(KernelBackend k, float[] x, int n) {
    int inter = gate.rows();
    float[] g = new float[n * inter];
    float[] u = new float[n * inter];
    k.matmul(gate, x, n, g);
    k.matmul(up, x, n, u);
    for (int i = 0; i < g.length; i++) {
      g[i] = silu(g[i]) * u[i];
    }
    float[] y = new float[n * down.rows()];
    k.matmul(down, g, n, y);
    return y;
  }

  static float silu(float z) {
    return z / (1f + (float) Math.exp(-z));
  }

  /** Bytes of weights one forward pass reads. */
  long bytes() {
    return gate.bytes() + up.bytes() + down.bytes();
  }
}
