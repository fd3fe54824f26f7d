package io.moeflink.engine.bench;

import io.moeflink.engine.kernel.KernelBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The machine's achievable read bandwidth, the denominator of every decode ratio: a buffer far
 * larger than the caches is streamed by as many threads as the kernels use (through their pool),
 * each thread summing its own contiguous slice with whole-register loads. The checksum is returned
 * and reported, so the JIT cannot drop the loads. The buffer is freed (unreachable) on return.
 */
final class MemoryReadBandwidth {
  /** Direct buffers are int-indexed; the probe is cut into slabs of this size. */
  private static final int SLAB_BYTES = 1 << 28;

  private final ArrayReader reader;

  MemoryReadBandwidth(ArrayReader reader) {
    this.reader = reader;
  }

  BandwidthMeasurement measure(KernelBackend kernels, long bytes, int passes) {
    int slabs = Math.toIntExact((bytes + SLAB_BYTES - 1) / SLAB_BYTES);
    ByteBuffer[] slab = new ByteBuffer[slabs];
    long total = 0;
    for (int s = 0; s < slabs; s++) {
      int size = (int) Math.min(SLAB_BYTES, bytes - (long) s * SLAB_BYTES) & ~63;
      slab[s] = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < size; i += 4096) {
        slab[s].putLong(i, i ^ s); // touch every page with a non-constant value
      }
      total += size;
    }
    int threads = kernels.threads();
    long[] partial = new long[threads];
    long checksum = 0;
    // two untimed passes: JIT compilation and page faults
    for (int p = 0; p < 2; p++) {
      checksum += pass(kernels, slab, threads, partial);
    }
    long[] nanos = new long[passes];
    for (int p = 0; p < passes; p++) {
      long start = System.nanoTime();
      checksum += pass(kernels, slab, threads, partial);
      nanos[p] = System.nanoTime() - start;
    }
    Arrays.sort(nanos);
    long median = nanos[passes / 2];
    return new BandwidthMeasurement(total, threads, passes, median, total * 1e9 / median, checksum);
  }

  private long pass(KernelBackend kernels, ByteBuffer[] slab, int threads, long[] partial) {
    kernels.parallelFor(threads, t -> {
      long sum = 0;
      for (ByteBuffer b : slab) {
        int from = (int) ((long) b.capacity() * t / threads) & ~63;
        int to = t + 1 == threads ? b.capacity() : (int) ((long) b.capacity() * (t + 1) / threads) & ~63;
        sum += reader.sum(b, from, to);
      }
      partial[t] = sum;
    });
    long sum = 0;
    for (long p : partial) {
      sum += p;
    }
    return sum;
  }
}
