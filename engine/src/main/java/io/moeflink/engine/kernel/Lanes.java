package io.moeflink.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** The Vector API shapes of the CPU kernels. Load only when {@code jdk.incubator.vector} is present. */
final class Lanes {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  /** Float lanes per vector (16 with AVX-512). */
  static final int L = F.length();
  /** As many bytes as {@link #L}: one vector of FP8 codes. */
  static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  /** Tokens, or rows, a tile takes at once. */
  static final int GROUP = 4;

  private Lanes() {}
}
