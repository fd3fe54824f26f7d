package io.moeflink.workbench.bench;

import io.moeflink.engine.kernel.Backends;
import java.nio.ByteBuffer;

/** Streams a range of a buffer through the core and folds it into a checksum. */
interface ArrayReader {

  /** Sums the longs of {@code buffer[from, to)} (byte offsets, multiples of 8). */
  long sum(ByteBuffer buffer, int from, int to);

  /** The Vector API reader where the module is present, as the kernels use it; else plain loads. */
  static ArrayReader best() {
    return Backends.vectorApiPresent() ? new VectorArrayReader() : new ScalarArrayReader();
  }
}
