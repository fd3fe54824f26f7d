package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * The committed PTX of {@code matmul.cu} and {@code pointwise.cu}, JIT-compiled by the driver for the current device when
 * loaded. {@code engine/src/main/cuda/build-ptx.sh} regenerates it; the constants here mirror the
 * {@code #define}s of the source and must change with them.
 */
final class CudaKernels implements AutoCloseable {
  /** The PTX targets {@code compute_80}: Ampere and later (Hopper is 90). */
  static final int MIN_COMPUTE_CAPABILITY = 80;

  /** Warps per thread block of the matmul kernels; each computes one output row. */
  static final int ROWS_PER_BLOCK = 4;

  /** Tokens one warp computes from one read of its weight row. */
  static final int TOKEN_TILE = 8;

  /** Threads per warp. */
  static final int WARP_SIZE = 32;

  /** Largest grid y dimension: bounds the tokens of one matmul call. */
  static final int MAX_GRID_Y = 65535;

  /** Threads per block of the element-wise kernels. */
  static final int POINTWISE_THREADS = 256;

  private static final String MATMUL_PTX = "matmul.ptx";
  private static final String POINTWISE_PTX = "pointwise.ptx";

  private final CUmodule matmul;
  private final CUmodule pointwise;
  final CUfunction matmulF32;
  final CUfunction matmulBf16;
  final CUfunction matmulFp8;
  final CUfunction rmsNorm;
  final CUfunction siluAndMultiply;
  final CUfunction softmaxRows;
  final CUfunction ropeInterleaved;

  /** Loads the module into the current context. */
  CudaKernels() {
    matmul = new CUmodule();
    cuModuleLoadData(matmul, ptx(MATMUL_PTX));
    matmulF32 = function(matmul, "matmul_f32");
    matmulBf16 = function(matmul, "matmul_bf16");
    matmulFp8 = function(matmul, "matmul_fp8");
    pointwise = new CUmodule();
    cuModuleLoadData(pointwise, ptx(POINTWISE_PTX));
    rmsNorm = function(pointwise, "rms_norm");
    siluAndMultiply = function(pointwise, "silu_and_multiply");
    softmaxRows = function(pointwise, "softmax_rows");
    ropeInterleaved = function(pointwise, "rope_interleaved");
  }

  private static CUfunction function(CUmodule module, String name) {
    CUfunction f = new CUfunction();
    cuModuleGetFunction(f, module, name);
    return f;
  }

  /** The PTX text of a resource next to this class. */
  static String ptx(String resource) {
    try (InputStream in = CudaKernels.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "PTX resource " + resource + " is missing next to " + CudaKernels.class.getName()
                + "; run engine/src/main/cuda/build-ptx.sh and rebuild");
      }
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read PTX resource " + resource, e);
    }
  }

  @Override
  public void close() {
    cuModuleUnload(matmul);
    cuModuleUnload(pointwise);
  }
}
