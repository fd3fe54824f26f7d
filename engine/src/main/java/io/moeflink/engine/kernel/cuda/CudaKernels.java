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
 * The committed PTX of {@code matmul.cu}, {@code pointwise.cu} and {@code attention.cu},
 * JIT-compiled by the driver for the current device when loaded. {@code
 * engine/src/main/cuda/build-ptx.sh} regenerates it; the constants here mirror the {@code
 * #define}s of the sources and must change with them.
 */
final class CudaKernels implements AutoCloseable {
  /** The PTX targets {@code compute_80}: Ampere and later (Hopper is 90). */
  static final int MIN_COMPUTE_CAPABILITY = 80;

  /** Warps per thread block of the matmul and row kernels; each computes one output row. */
  static final int ROWS_PER_BLOCK = 4;

  /** Tokens one warp computes from one read of its weight row. */
  static final int TOKEN_TILE = 8;

  /** Threads per warp. */
  static final int WARP_SIZE = 32;

  /** Largest grid y dimension: bounds the tokens of one matmul call. */
  static final int MAX_GRID_Y = 65535;

  /** Threads per block of the element-wise kernels. */
  static final int POINTWISE_THREADS = 256;

  /** Warps per block of {@code latent_attention}. */
  static final int ATTENTION_WARPS = 4;

  private final CUmodule matmul;
  private final CUmodule pointwise;
  private final CUmodule attention;
  final CUfunction matmulF32;
  final CUfunction matmulBf16;
  final CUfunction matmulFp8;
  final CUfunction matmulHeadsF32;
  final CUfunction matmulHeadsBf16;
  final CUfunction matmulHeadsFp8;
  final CUfunction rmsNorm;
  final CUfunction siluAndMultiply;
  final CUfunction softmaxRows;
  final CUfunction rotateHeads;
  final CUfunction addInPlace;
  final CUfunction sigmoidInPlace;
  final CUfunction gatherRows;
  final CUfunction scatterRows;
  final CUfunction combineExperts;
  final CUfunction cacheLatents;
  final CUfunction latentAttention;

  /** Loads the modules into the current context. */
  CudaKernels() {
    matmul = load("matmul.ptx");
    matmulF32 = function(matmul, "matmul_f32");
    matmulBf16 = function(matmul, "matmul_bf16");
    matmulFp8 = function(matmul, "matmul_fp8");
    matmulHeadsF32 = function(matmul, "matmul_heads_f32");
    matmulHeadsBf16 = function(matmul, "matmul_heads_bf16");
    matmulHeadsFp8 = function(matmul, "matmul_heads_fp8");
    pointwise = load("pointwise.ptx");
    rmsNorm = function(pointwise, "rms_norm");
    siluAndMultiply = function(pointwise, "silu_and_multiply");
    softmaxRows = function(pointwise, "softmax_rows");
    rotateHeads = function(pointwise, "rotate_heads");
    addInPlace = function(pointwise, "add_in_place");
    sigmoidInPlace = function(pointwise, "sigmoid_in_place");
    gatherRows = function(pointwise, "gather_rows");
    scatterRows = function(pointwise, "scatter_rows");
    combineExperts = function(pointwise, "combine_experts");
    attention = load("attention.ptx");
    cacheLatents = function(attention, "cache_latents");
    latentAttention = function(attention, "latent_attention");
  }

  private static CUmodule load(String resource) {
    CUmodule module = new CUmodule();
    cuModuleLoadData(module, ptx(resource));
    return module;
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
    cuModuleUnload(attention);
  }
}
