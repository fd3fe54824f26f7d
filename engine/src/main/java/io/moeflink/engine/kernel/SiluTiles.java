package io.moeflink.engine.kernel;

/**
 * {@code g[i] = g[i] / (1f + (float) Math.exp(-g[i])) * u[i]}, the scalar SiLU's bits, a
 * block at a time: {@code -g} into this thread's scratch, its exponential in place ({@link
 * ExpLanes}), then the sum, division and product (IEEE, so C2's vectors keep the bits).
 */
final class SiluTiles {
  private static final int BLOCK = 1024;
  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK]);

  private SiluTiles() {}

  static void siluMultiply(float[] g, float[] u, int from, int to) {
    float[] e = SCRATCH.get();
    for (int b = from; b < to; b += BLOCK) {
      int n = Math.min(BLOCK, to - b);
      for (int k = 0; k < n; k++) {
        e[k] = -g[b + k];
      }
      ExpLanes.expInPlace(e, 0, n);
      for (int k = 0; k < n; k++) { // C2 vectorizes these plain loops itself
        g[b + k] = g[b + k] / (1f + e[k]) * u[b + k];
      }
    }
  }
}
