package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;

/**
 * Device memory for activations, reused in power-of-two size classes. All work of a backend runs
 * on one stream, so a block released by one operation and handed to the next allocation is only
 * touched again after everything queued before it: stream order makes the reuse safe without a
 * synchronisation, and a decode step allocates nothing once the pool is warm.
 */
final class DevicePool implements AutoCloseable {
  /** Smallest block: 256 bytes, the driver's alignment. */
  private static final long MIN_BYTES = 256;

  private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
  private final List<Block> all = new ArrayList<>();
  private long heldBytes;

  /** A block of {@code bytes} (a power of two) at {@code pointer}. */
  record Block(CUdeviceptr pointer, long bytes) {}

  /** A block of at least {@code bytes}, not zeroed. */
  Block take(long bytes) {
    long size = Math.max(MIN_BYTES, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
    ArrayDeque<Block> blocks = free.get(size);
    if (blocks != null && !blocks.isEmpty()) {
      return blocks.pop();
    }
    CUdeviceptr p = new CUdeviceptr();
    try {
      cuMemAlloc(p, size);
    } catch (CudaException e) {
      throw new IllegalStateException("Cannot allocate " + size + " bytes of activations in GPU memory ("
          + heldBytes + " held): " + e.getMessage() + "; lower --token-budget or --max-sequences", e);
    }
    Block b = new Block(p, size);
    all.add(b);
    heldBytes += size;
    return b;
  }

  void release(Block b) {
    free.computeIfAbsent(b.bytes(), s -> new ArrayDeque<>()).push(b);
  }

  /** Device bytes held, in use or free. */
  long heldBytes() {
    return heldBytes;
  }

  @Override
  public void close() {
    for (Block b : all) {
      cuMemFree(b.pointer());
    }
    all.clear();
    free.clear();
    heldBytes = 0;
  }
}
