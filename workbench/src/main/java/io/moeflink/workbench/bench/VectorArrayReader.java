package io.moeflink.workbench.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whole-register loads with four independent accumulators, so the loop is bound by memory, not by
 * the add latency; the same load instruction the BF16 and FP8 kernels use for weights. Only load
 * this class when {@code jdk.incubator.vector} is present.
 */
final class VectorArrayReader implements ArrayReader {
  private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
  private static final int STEP = S.vectorByteSize();

  @Override
  public long sum(ByteBuffer buffer, int from, int to) {
    LongVector a = LongVector.zero(S);
    LongVector b = LongVector.zero(S);
    LongVector c = LongVector.zero(S);
    LongVector d = LongVector.zero(S);
    int i = from;
    for (; i + 4 * STEP <= to; i += 4 * STEP) {
      a = a.add(LongVector.fromByteBuffer(S, buffer, i, ByteOrder.LITTLE_ENDIAN));
      b = b.add(LongVector.fromByteBuffer(S, buffer, i + STEP, ByteOrder.LITTLE_ENDIAN));
      c = c.add(LongVector.fromByteBuffer(S, buffer, i + 2 * STEP, ByteOrder.LITTLE_ENDIAN));
      d = d.add(LongVector.fromByteBuffer(S, buffer, i + 3 * STEP, ByteOrder.LITTLE_ENDIAN));
    }
    long sum = a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    // remaining longs
    for (; i + 8 <= to; i += 8) {
      sum += buffer.getLong(i);
    }
    return sum;
  }
}
