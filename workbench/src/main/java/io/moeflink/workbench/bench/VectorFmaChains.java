package io.moeflink.workbench.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Twelve FMA chains of the preferred float species, the width the kernels' tiles use: more than the
 * latency (4 cycles) times the FMA ports (2) needs, and few enough for AVX2's sixteen registers.
 * Each chain accumulates into the addend, {@code acc = fma(m, add, acc)}, as the kernels' tiles do:
 * C2's code for the other form ({@code acc = fma(acc, m, add)}) ran at two thirds of this speed
 * on a Zen 3 core (26 against 38 GFLOP/s on one thread, JDK 17 and 25), and a probe slower than
 * the kernels' own loops is no peak.
 * Only load this class when {@code jdk.incubator.vector} is present.
 */
final class VectorFmaChains implements FmaProbe.Chains {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  @Override
  public double run(long iterations, float seed) {
    FloatVector m = FloatVector.broadcast(F, 1f - seed);
    FloatVector add = FloatVector.broadcast(F, seed);
    FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (long i = 0; i < iterations; i++) {
      a0 = m.fma(add, a0);
      a1 = m.fma(add, a1);
      a2 = m.fma(add, a2);
      a3 = m.fma(add, a3);
      a4 = m.fma(add, a4);
      a5 = m.fma(add, a5);
      a6 = m.fma(add, a6);
      a7 = m.fma(add, a7);
      a8 = m.fma(add, a8);
      a9 = m.fma(add, a9);
      a10 = m.fma(add, a10);
      a11 = m.fma(add, a11);
    }
    FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
    return s.reduceLanes(VectorOperators.ADD);
  }

  @Override
  public long flopsPerIteration() {
    return 12L * 2 * F.length();
  }

  @Override
  public String description() {
    return F.vectorBitSize() + "-bit vectors, 12 chains";
  }
}
