package io.moeflink.workbench.bench;

import java.nio.ByteBuffer;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reads a buffer the way the kernels read weights: bulk copies of a few KiB into a per-thread
 * array (one copy keeps many cache-line reads in flight), each summed with whole-register loads and
 * four independent accumulators, so the loop is bound by memory, not by the add latency. Array
 * loads ({@code fromArray}) exist in every JDK's Vector API. Only load this class when {@code
 * jdk.incubator.vector} is present.
 */
final class VectorArrayReader implements ArrayReader {
  private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
  /** Longs staged at a time: 8 KiB, the kernels' staging size for a block of weights. */
  private static final int STAGE = 1024;
  private static final ThreadLocal<long[]> STAGED = ThreadLocal.withInitial(() -> new long[STAGE]);

  @Override
  public long sum(ByteBuffer buffer, int from, int to) {
    long[] staged = STAGED.get();
    java.nio.LongBuffer longs = buffer.asLongBuffer();
    LongVector a = LongVector.zero(S);
    LongVector b = LongVector.zero(S);
    LongVector c = LongVector.zero(S);
    LongVector d = LongVector.zero(S);
    int lanes = S.length();
    long sum = 0;
    int i = from;
    for (; i + 8 * STAGE <= to; i += 8 * STAGE) {
      longs.get(i / 8, staged, 0, STAGE);
      for (int k = 0; k < STAGE; k += 4 * lanes) {
        a = a.add(LongVector.fromArray(S, staged, k));
        b = b.add(LongVector.fromArray(S, staged, k + lanes));
        c = c.add(LongVector.fromArray(S, staged, k + 2 * lanes));
        d = d.add(LongVector.fromArray(S, staged, k + 3 * lanes));
      }
    }
    sum += a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    // remaining longs
    for (; i + 8 <= to; i += 8) {
      sum += buffer.getLong(i);
    }
    return sum;
  }
}
