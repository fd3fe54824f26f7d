package io.moeflink.workbench.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Twelve FMA chains of the preferred float species, the width the kernels' tiles use: more than the
 * latency (4 cycles) times the FMA ports (2) needs, and few enough for AVX2's sixteen registers.
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
      a0 = a0.fma(m, add);
      a1 = a1.fma(m, add);
      a2 = a2.fma(m, add);
      a3 = a3.fma(m, add);
      a4 = a4.fma(m, add);
      a5 = a5.fma(m, add);
      a6 = a6.fma(m, add);
      a7 = a7.fma(m, add);
      a8 = a8.fma(m, add);
      a9 = a9.fma(m, add);
      a10 = a10.fma(m, add);
      a11 = a11.fma(m, add);
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
