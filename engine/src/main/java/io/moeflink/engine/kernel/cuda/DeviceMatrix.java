package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.kernel.WeightEncoding;
import io.moeflink.engine.kernel.WeightMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A {@link WeightMatrix} resident in device memory, in its stored dtype: BF16 and FP8 codes are
 * copied as they are (never expanded to F32) and decoded by the kernels, FP8 with the F32 block
 * scales of its whole tensor.
 */
final class DeviceMatrix {
  final DType dtype;
  final int rows;
  final int cols;
  final CUdeviceptr weights; // (rows, cols) in dtype, 256-byte aligned
  final CUdeviceptr scales; // FP8 only: (ceil(storedRows / 128), scaleCols) F32; else null
  final int scaleRow0; // the stored row the view starts at, for the scale row of each row
  final int scaleCols;
  final long bytes; // device bytes held, weights and scales

  private DeviceMatrix(
      DType dtype, int rows, int cols, CUdeviceptr weights, CUdeviceptr scales, int scaleRow0, int scaleCols, long bytes) {
    this.dtype = dtype;
    this.rows = rows;
    this.cols = cols;
    this.weights = weights;
    this.scales = scales;
    this.scaleRow0 = scaleRow0;
    this.scaleCols = scaleCols;
    this.bytes = bytes;
  }

  /** Copies {@code w} into the current context's device memory. */
  static DeviceMatrix upload(WeightMatrix w) {
    if (w.encoding() != WeightEncoding.F32 && w.encoding() != WeightEncoding.BF16 && w.encoding() != WeightEncoding.FP8) {
      throw new IllegalArgumentException(
          "Weight " + w.name() + " is " + w.encoding() + ": the CUDA kernels decode F32, BF16 and FP8 only;"
              + " run INT8/INT4 checkpoints with --backend auto (the CPU kernels decode them)");
    }
    ByteBuffer stored = direct(w.storedRows());
    long weightBytes = stored.remaining();
    CUdeviceptr weights = allocate(w, weightBytes);
    CUdeviceptr scales = null;
    int scaleCols = 0;
    long scaleBytes = 0;
    try {
      cuMemcpyHtoD(weights, Pointer.to(stored), weightBytes);
      float[] blockScales = w.blockScales();
      if (blockScales != null) {
        scaleCols = (w.cols() + WeightMatrix.FP8_BLOCK - 1) / WeightMatrix.FP8_BLOCK;
        scaleBytes = 4L * blockScales.length;
        scales = allocate(w, scaleBytes);
        cuMemcpyHtoD(scales, Pointer.to(blockScales), scaleBytes);
      }
    } catch (RuntimeException e) {
      cuMemFree(weights);
      if (scales != null) {
        cuMemFree(scales);
      }
      throw e;
    }
    return new DeviceMatrix(w.dtype(), w.rows(), w.cols(), weights, scales, w.firstStoredRow(), scaleCols,
        weightBytes + scaleBytes);
  }

  private static CUdeviceptr allocate(WeightMatrix w, long bytes) {
    CUdeviceptr p = new CUdeviceptr();
    try {
      cuMemAlloc(p, Math.max(bytes, 1));
    } catch (CudaException e) {
      throw new IllegalStateException(
          "Cannot place weight " + w.name() + " [" + w.rows() + ", " + w.cols() + "] " + w.dtype().code() + " ("
              + bytes + " bytes) in GPU memory: " + e.getMessage()
              + "; use more expert shards or a GPU with more memory", e);
    }
    return p;
  }

  /** JCuda copies from direct buffers; heap-backed test matrices are copied once. */
  private static ByteBuffer direct(ByteBuffer b) {
    if (b.isDirect()) {
      return b;
    }
    ByteBuffer copy = ByteBuffer.allocateDirect(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(b.duplicate()).flip();
    return copy;
  }

  void free() {
    cuMemFree(weights);
    if (scales != null) {
      cuMemFree(scales);
    }
  }
}
