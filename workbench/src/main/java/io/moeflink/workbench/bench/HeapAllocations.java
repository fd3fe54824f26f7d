package io.moeflink.workbench.bench;

import java.lang.management.ManagementFactory;

/**
 * Bytes allocated on the heap by the JVM's live threads so far, where the JVM counts them
 * (HotSpot does). A decode step of compiled kernels allocates little; Vector API code that C2 has
 * not compiled (left in the interpreter or C1 code) allocates a box for every vector it touches,
 * tens of megabytes a step, and runs many times slower.
 */
final class HeapAllocations {
  private HeapAllocations() {}

  /** Whether this JVM counts allocations per thread. */
  static boolean counted() {
    return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean counting
        && counting.isThreadAllocatedMemorySupported() && counting.isThreadAllocatedMemoryEnabled();
  }

  /** The running total, or 0 where the JVM does not count ({@link #counted}). */
  static long total() {
    if (!counted()) {
      return 0;
    }
    com.sun.management.ThreadMXBean counting = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long bytes : counting.getThreadAllocatedBytes(counting.getAllThreadIds())) {
      sum += Math.max(bytes, 0); // -1: the thread ended meanwhile
    }
    return sum;
  }
}
