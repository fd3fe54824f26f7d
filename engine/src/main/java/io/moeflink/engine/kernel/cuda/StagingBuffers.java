package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The activations of one matmul on their way to the device and back: a page-locked (pinned) host
 * buffer, which the DMA engine copies from asynchronously and at full PCIe speed, and a device
 * buffer. Both grow to the largest call seen and are reused, so a decode step allocates nothing.
 */
final class StagingBuffers implements AutoCloseable {
  /** Smallest allocation, so that decode-sized calls never reallocate. */
  private static final long MIN_BYTES = 1L << 16;

  private Pointer host;
  private FloatBuffer hostFloats;
  private CUdeviceptr device;
  private long capacity;

  /** Makes room for {@code bytes} on both sides. */
  void ensure(long bytes) {
    if (bytes <= capacity) {
      return;
    }
    long grown = Math.max(MIN_BYTES, Long.highestOneBit(bytes - 1) << 1);
    close();
    Pointer h = new Pointer();
    cuMemAllocHost(h, grown);
    CUdeviceptr d = new CUdeviceptr();
    try {
      cuMemAlloc(d, grown);
    } catch (RuntimeException e) {
      cuMemFreeHost(h);
      throw e;
    }
    host = h;
    hostFloats = h.getByteBuffer(0, grown).order(ByteOrder.nativeOrder()).asFloatBuffer();
    device = d;
    capacity = grown;
  }

  Pointer host() {
    return host;
  }

  /** The pinned host memory as floats, position 0. */
  FloatBuffer hostFloats() {
    return hostFloats.clear();
  }

  CUdeviceptr device() {
    return device;
  }

  @Override
  public void close() {
    if (host != null) {
      cuMemFreeHost(host);
      cuMemFree(device);
      host = null;
      hostFloats = null;
      device = null;
      capacity = 0;
    }
  }
}
