package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.FloatVector;

/**
 * {@code g[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i]}, the scalar SiLU's bits, in
 * vectors, a block at a time: {@code -g} into this thread's scratch, its exponential in place
 * ({@link ExpLanes}), then the sum, division and product, IEEE in either form.
 */
final class SiluTiles {
  private static final int BLOCK = 1024;
  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK]);

  private SiluTiles() {}

  static void siluMultiply(float[] g, float[] u, int from, int to) {
    float[] e = SCRATCH.get();
    for (int b = from; b < to; b += BLOCK) {
      int n = Math.min(BLOCK, to - b);
      int vectors = n / L * L;
      for (int k = 0; k < vectors; k += L) {
        FloatVector.fromArray(F, g, b + k).neg().intoArray(e, k);
      }
      for (int k = vectors; k < n; k++) {
        e[k] = -g[b + k];
      }
      ExpLanes.expInPlace(e, 0, n);
      for (int k = 0; k < vectors; k += L) {
        FloatVector z = FloatVector.fromArray(F, g, b + k);
        z.div(FloatVector.fromArray(F, e, k).add(1f)).mul(FloatVector.fromArray(F, u, b + k)).intoArray(g, b + k);
      }
      for (int k = vectors; k < n; k++) {
        g[b + k] = g[b + k] / (1f + e[k]) * u[b + k];
      }
    }
  }
}
