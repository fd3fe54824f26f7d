package io.moeflink.workbench.bench;

import io.moeflink.engine.kernel.KernelBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The machine's achievable read bandwidth, the denominator of every decode ratio: a buffer far
 * larger than the caches, streamed by as many threads as the kernels use (through their pool),
 * each thread summing its own contiguous slice with whole-register loads. Each pass returns its
 * time; the checksum of everything read is kept and reported, so the JIT cannot drop the loads.
 *
 * <p>The benchmark times one pass after every decode step, so a step and its limit are measured
 * under the same machine load (shared hosts vary by 2x within a minute), and each pass evicts the
 * weights from the last-level cache, so decode is judged on DRAM reads, not cache hits.
 */
final class ReadBandwidthProbe {
  /** Direct buffers are int-indexed; the probe is cut into slabs of this size. */
  private static final int SLAB_BYTES = 1 << 28;

  private final ArrayReader reader;
  private final KernelBackend kernels;
  private final ByteBuffer[] slabs;
  private final long bytes;
  private final long[] partial; // (threads) per-thread sums of the last pass
  private long checksum;

  ReadBandwidthProbe(ArrayReader reader, KernelBackend kernels, long bytes) {
    this.reader = reader;
    this.kernels = kernels;
    this.slabs = new ByteBuffer[Math.toIntExact((bytes + SLAB_BYTES - 1) / SLAB_BYTES)];
    long total = 0;
    for (int s = 0; s < slabs.length; s++) {
      int size = (int) Math.min(SLAB_BYTES, bytes - (long) s * SLAB_BYTES) & ~63;
      slabs[s] = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < size; i += 4096) {
        slabs[s].putLong(i, i ^ s); // touch every page with a non-constant value
      }
      total += size;
    }
    this.bytes = total;
    this.partial = new long[kernels.threads()];
  }

  /** Bytes one pass reads. */
  long bytes() {
    return bytes;
  }

  /** Sum of everything read so far. */
  long checksum() {
    return checksum;
  }

  /** Reads the whole buffer once; returns the elapsed nanoseconds. */
  long pass() {
    int threads = partial.length;
    long start = System.nanoTime();
    kernels.parallelFor(threads, t -> {
      long sum = 0;
      for (ByteBuffer b : slabs) {
        int from = (int) ((long) b.capacity() * t / threads) & ~63;
        int to = t + 1 == threads ? b.capacity() : (int) ((long) b.capacity() * (t + 1) / threads) & ~63;
        sum += reader.sum(b, from, to);
      }
      partial[t] = sum;
    });
    long elapsed = System.nanoTime() - start;
    for (long p : partial) {
      checksum += p;
    }
    return elapsed;
  }

  /** {@code passes} timed passes after two untimed ones (JIT, page faults). */
  BandwidthMeasurement measure(int passes) {
    pass();
    pass();
    long[] nanos = new long[passes];
    for (int p = 0; p < passes; p++) {
      nanos[p] = pass();
    }
    return of(nanos);
  }

  /** The measurement from pass times taken with {@link #pass()}. */
  BandwidthMeasurement of(long[] passNanos) {
    long median = Medians.of(passNanos);
    return new BandwidthMeasurement(bytes, partial.length, passNanos.length, median, bytes * 1e9 / median, checksum);
  }
}
