package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The Vector API shape of the CPU kernels. Load only when {@code jdk.incubator.vector} is present. */
final class Lanes {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  /** Float lanes per vector: 16 with AVX-512, 8 with AVX2. */
  static final int L = F.length();

  private Lanes() {}
}
