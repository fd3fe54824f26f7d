package io.moeflink.engine.kernel.cuda;

import io.moeflink.engine.kernel.Activations;
import jcuda.driver.CUdeviceptr;

/**
 * Activations in device memory, a block of a {@link DevicePool}: {@link #close()} hands the block
 * back to the pool (no {@code cuMemFree}, which would stall the stream), to be reused by a later
 * allocation on the same stream.
 */
final class DeviceActivations implements Activations {
  private final DevicePool pool;
  private final DevicePool.Block block;
  private final int length;
  private boolean closed;

  DeviceActivations(DevicePool pool, DevicePool.Block block, int length) {
    this.pool = pool;
    this.block = block;
    this.length = length;
  }

  /** The device address; fails once closed. */
  CUdeviceptr pointer() {
    if (closed) {
      throw new IllegalStateException("Device activations [" + length + "] used after close");
    }
    return block.pointer();
  }

  boolean belongsTo(DevicePool p) {
    return pool == p;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      pool.release(block);
    }
  }

  @Override
  public String toString() {
    return "device activations [" + length + "]";
  }
}
