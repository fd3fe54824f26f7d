package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;

/**
 * The device's memory bandwidth as a device-to-device copy measures it, the yardstick the GPU
 * benchmark divides by (as the CPU benchmark divides by its read probe).
 */
public final class CudaBandwidthProbe {
  private static final long COPY_BYTES = 1L << 30;
  private static final int COPY_REPEATS = 10;

  private CudaBandwidthProbe() {}

  /** Device {@code ordinal}'s name and bytes moved per second (each byte read once, written once). */
  public static Result measure(int ordinal) {
    try (CudaDevice device = CudaDevice.open(ordinal)) {
      device.makeCurrent();
      return new Result(device.name(), copyBandwidth());
    }
  }

  /** @param bytesPerSecond read plus written bytes per second of a 1 GiB copy */
  public record Result(String deviceName, double bytesPerSecond) {}

  private static double copyBandwidth() {
    CUdeviceptr a = new CUdeviceptr();
    CUdeviceptr b = new CUdeviceptr();
    cuMemAlloc(a, COPY_BYTES);
    cuMemAlloc(b, COPY_BYTES);
    CUevent start = new CUevent();
    CUevent end = new CUevent();
    cuEventCreate(start, 0);
    cuEventCreate(end, 0);
    CUstream stream = new CUstream(); // the default stream
    try {
      cuMemcpyDtoDAsync(b, a, COPY_BYTES, stream);
      cuEventRecord(start, stream);
      for (int i = 0; i < COPY_REPEATS; i++) {
        cuMemcpyDtoDAsync(i % 2 == 0 ? b : a, i % 2 == 0 ? a : b, COPY_BYTES, stream);
      }
      cuEventRecord(end, stream);
      cuEventSynchronize(end);
      float[] ms = new float[1];
      cuEventElapsedTime(ms, start, end);
      return 2.0 * COPY_BYTES * COPY_REPEATS / (ms[0] / 1e3);
    } finally {
      cuEventDestroy(start);
      cuEventDestroy(end);
      cuMemFree(a);
      cuMemFree(b);
    }
  }
}
