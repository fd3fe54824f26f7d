package io.moeflink.engine.kernel;

import static io.moeflink.engine.kernel.Lanes.F;
import static io.moeflink.engine.kernel.Lanes.L;

import jdk.incubator.vector.FloatVector;

/**
 * {@code g[i] = g[i] / (1f + FloatExp.exp(-g[i])) * u[i]}, the scalar SiLU's bits, in vector
 * lanes: the exponential ({@link FloatExp#lanes}), the sum, the division and the product are each
 * IEEE lane-wise, as the scalar expression rounds them.
 */
final class SiluTiles {
  private static final FloatVector ONE = FloatVector.broadcast(F, 1f);

  private SiluTiles() {}

  static void siluMultiply(float[] g, float[] u, int from, int to) {
    int i = from;
    for (int bound = from + F.loopBound(to - from); i < bound; i += L) {
      FloatVector z = FloatVector.fromArray(F, g, i);
      FloatVector e = FloatExp.lanes(z.neg());
      z.div(e.add(ONE)).mul(FloatVector.fromArray(F, u, i)).intoArray(g, i);
    }
    CpuBackend.siluReference(g, u, i, to);
  }
}
