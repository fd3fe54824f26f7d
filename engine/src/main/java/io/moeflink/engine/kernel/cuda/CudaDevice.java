package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;

/**
 * One GPU and its primary context. The primary context is the one per device and process that the
 * CUDA runtime also uses, so the generation and expert-shard operators of a slot, each with its
 * own backend, share the slot's GPU (and its memory) rather than time-slicing two contexts.
 */
final class CudaDevice implements AutoCloseable {
  private static final int NAME_BYTES = 256;

  private final int ordinal;
  private final CUdevice device;
  private final CUcontext context;
  private final String name;
  private final long totalMemory;
  private final int computeCapability; // 10 * major + minor
  private boolean closed;

  private CudaDevice(int ordinal, CUdevice device, CUcontext context, String name, long totalMemory, int computeCapability) {
    this.ordinal = ordinal;
    this.device = device;
    this.context = context;
    this.name = name;
    this.totalMemory = totalMemory;
    this.computeCapability = computeCapability;
  }

  /**
   * Retains device {@code ordinal}'s primary context and makes it current on this thread.
   *
   * @throws IllegalStateException where CUDA or the device is missing ({@link CudaAvailability})
   */
  static CudaDevice open(int ordinal) {
    CudaAvailability.probe().requireDevice(ordinal);
    CUdevice device = new CUdevice();
    cuDeviceGet(device, ordinal);
    byte[] nameBytes = new byte[NAME_BYTES];
    cuDeviceGetName(nameBytes, NAME_BYTES, device);
    int length = 0;
    while (length < NAME_BYTES && nameBytes[length] != 0) {
      length++;
    }
    long[] memory = new long[1];
    cuDeviceTotalMem(memory, device);
    int[] major = new int[1];
    int[] minor = new int[1];
    cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    if (major[0] * 10 + minor[0] < CudaKernels.MIN_COMPUTE_CAPABILITY) {
      throw new IllegalStateException(
          "CUDA device " + ordinal + " has compute capability " + major[0] + "." + minor[0]
              + ", the kernels need at least " + CudaKernels.MIN_COMPUTE_CAPABILITY / 10 + "."
              + CudaKernels.MIN_COMPUTE_CAPABILITY % 10 + " (Ampere); configure backend 'auto'");
    }
    CUcontext context = new CUcontext();
    cuDevicePrimaryCtxRetain(context, device);
    cuCtxSetCurrent(context);
    return new CudaDevice(ordinal, device, context, new String(nameBytes, 0, length, StandardCharsets.US_ASCII),
        memory[0], major[0] * 10 + minor[0]);
  }

  /**
   * Makes this device's context current on the calling thread. Driver API calls act on the current
   * context of their thread, and Flink may call an operator from more than one thread.
   */
  void makeCurrent() {
    cuCtxSetCurrent(context);
  }

  int ordinal() {
    return ordinal;
  }

  String name() {
    return name;
  }

  long totalMemory() {
    return totalMemory;
  }

  int computeCapability() {
    return computeCapability;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      cuDevicePrimaryCtxRelease(device);
    }
  }
}
