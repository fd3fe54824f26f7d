package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.WeightMatrix;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernels on an NVIDIA GPU through JCuda's driver API. Projections ({@link #matmul}) run on the
 * device against weights kept in device memory in their stored dtype; the small per-head
 * operations ({@link #dot}, {@link #axpy}, {@link #parallelFor}) run on a CPU backend, since the
 * model keeps its activations and KV cache on the host for now.
 *
 * <p>Each weight matrix is uploaded on its first use and then stays: the cache is keyed by the
 * {@link WeightMatrix} object, which a loaded model or expert shard holds for its lifetime, so
 * open the backend per model and close it with the model. Activations travel through pinned host
 * buffers on one stream per backend.
 *
 * <p>Determinism: every output element is reduced by one warp in an order fixed by the matrix
 * shape ({@code matmul.cu}), so results are bitwise independent of the batch, the call and the
 * number of host threads, like the CPU backends' (though not bitwise equal to theirs).
 *
 * <p>Thread-safe: calls on one backend are serialised on its stream.
 *
 * <pre>{@code
 * try (KernelBackend k = Backends.create("cuda", threads, device)) {
 *   Model model = Model.load(dir, k);
 *   ...
 * }
 * }</pre>
 */
public final class CudaBackend implements KernelBackend {
  private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

  private final CudaDevice device;
  private final CudaKernels kernels;
  private final CUstream stream;
  private final StagingBuffers input = new StagingBuffers();
  private final StagingBuffers output = new StagingBuffers();
  private final StagingBuffers operand = new StagingBuffers(); // a second input: norm weight, u, angles
  private final Map<WeightMatrix, DeviceMatrix> resident = new IdentityHashMap<>();
  private final KernelBackend host;
  private long residentBytes;
  private boolean closed;

  private CudaBackend(CudaDevice device, CudaKernels kernels, CUstream stream, KernelBackend host) {
    this.device = device;
    this.kernels = kernels;
    this.stream = stream;
    this.host = host;
  }

  /**
   * A backend on CUDA device {@code ordinal} (as numbered after {@code CUDA_VISIBLE_DEVICES}; see
   * {@link GpuDeviceSelector}) with {@code hostThreads} CPU threads for the host-side operations.
   *
   * @throws IllegalStateException without JCuda natives, driver or such a device; never falls back
   */
  public static CudaBackend open(int ordinal, int hostThreads) {
    CudaDevice device = CudaDevice.open(ordinal);
    try {
      CudaKernels kernels = new CudaKernels();
      CUstream stream = new CUstream();
      cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
      CudaBackend backend = new CudaBackend(device, kernels, stream, Backends.cpu("auto", hostThreads));
      LOG.info("CUDA backend on device {} ({}, compute capability {}.{}, {} GiB), driver {}, {} host threads",
          ordinal, device.name(), device.computeCapability() / 10, device.computeCapability() % 10,
          device.totalMemory() >> 30, CudaAvailability.probe().driverVersion(), hostThreads);
      return backend;
    } catch (RuntimeException e) {
      device.close();
      throw e;
    }
  }

  @Override
  public String name() {
    return "cuda(" + device.name() + ", device " + device.ordinal() + ")";
  }

  @Override
  public synchronized void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    int rows = w.rows();
    int cols = w.cols();
    long in = Math.multiplyExact((long) tokens, cols);
    long out = Math.multiplyExact((long) tokens, rows);
    if (x.length < in || y.length < out) {
      throw new IllegalArgumentException(
          "matmul of " + w.name() + " [" + rows + ", " + cols + "] for " + tokens + " tokens needs x of " + in
              + " and y of " + out + " floats, got " + x.length + " and " + y.length);
    }
    if (tokens > (long) CudaKernels.MAX_GRID_Y * CudaKernels.TOKEN_TILE) {
      throw new IllegalArgumentException(
          tokens + " tokens in one matmul exceed the kernel grid's "
              + (long) CudaKernels.MAX_GRID_Y * CudaKernels.TOKEN_TILE + "; split the batch");
    }
    if (tokens == 0 || rows == 0) {
      return;
    }
    if (cols == 0) {
      Arrays.fill(y, 0, (int) out, 0f);
      return;
    }
    ensureOpen();
    device.makeCurrent();
    DeviceMatrix d = resident(w);
    input.ensure(4 * in);
    output.ensure(4 * out);
    input.hostFloats().put(x, 0, (int) in);
    cuMemcpyHtoDAsync(input.device(), input.host(), 4 * in, stream);
    launch(d, tokens);
    cuMemcpyDtoHAsync(output.host(), output.device(), 4 * out, stream);
    cuStreamSynchronize(stream);
    output.hostFloats().get(y, 0, (int) out);
  }

  private void launch(DeviceMatrix d, int tokens) {
    Pointer params;
    CUfunction f;
    switch (d.dtype) {
      case F32, BF16 -> {
        f = d.dtype == DType.F32 ? kernels.matmulF32 : kernels.matmulBf16;
        params = Pointer.to(
            Pointer.to(d.weights), Pointer.to(new int[] {d.rows}), Pointer.to(new int[] {d.cols}),
            Pointer.to(input.device()), Pointer.to(new int[] {tokens}), Pointer.to(output.device()));
      }
      case F8_E4M3 -> {
        f = kernels.matmulFp8;
        params = Pointer.to(
            Pointer.to(d.weights), Pointer.to(d.scales), Pointer.to(new int[] {d.scaleRow0}),
            Pointer.to(new int[] {d.scaleCols}), Pointer.to(new int[] {d.rows}), Pointer.to(new int[] {d.cols}),
            Pointer.to(input.device()), Pointer.to(new int[] {tokens}), Pointer.to(output.device()));
      }
      default -> throw new IllegalStateException("No kernel for " + d.dtype);
    }
    int rowBlocks = (d.rows + CudaKernels.ROWS_PER_BLOCK - 1) / CudaKernels.ROWS_PER_BLOCK;
    int tokenTiles = (tokens + CudaKernels.TOKEN_TILE - 1) / CudaKernels.TOKEN_TILE;
    cuLaunchKernel(f, rowBlocks, tokenTiles, 1, CudaKernels.ROWS_PER_BLOCK * CudaKernels.WARP_SIZE, 1, 1, 0,
        stream, params, null);
  }

  // The block's other steps, on the device. The model still runs them on the host; these are
  // here, tested against the host arithmetic, for when activations stay on the device.

  /** RMSNorm of {@code rows} rows of {@code weight.length} elements; as the model's {@code RmsNorm}. */
  synchronized void rmsNorm(float[] x, int rows, float[] weight, double eps, float[] y) {
    int dim = weight.length;
    int n = Math.multiplyExact(rows, dim);
    begin(x, n, weight, dim, n);
    launchRows(kernels.rmsNorm, rows, Pointer.to(
        Pointer.to(input.device()), Pointer.to(new int[] {dim}), Pointer.to(operand.device()), Pointer.to(new int[] {dim}),
        Pointer.to(new double[] {eps}), Pointer.to(new int[] {rows}), Pointer.to(output.device()), Pointer.to(new int[] {dim})));
    finish(output, y, n);
  }

  /** {@code g[i] = silu(g[i]) * u[i]} for {@code i < n}, in place. */
  synchronized void siluAndMultiply(float[] g, float[] u, int n) {
    begin(g, n, u, n, 0);
    launchFlat(kernels.siluAndMultiply, n, Pointer.to(
        Pointer.to(input.device()), Pointer.to(operand.device()), Pointer.to(new int[] {n})));
    finish(input, g, n);
  }

  /** Softmax of each of {@code rows} rows of {@code cols}, in place. */
  synchronized void softmaxRows(float[] x, int rows, int cols) {
    int n = Math.multiplyExact(rows, cols);
    begin(x, n, null, 0, 0);
    launchRows(kernels.softmaxRows, rows, Pointer.to(
        Pointer.to(input.device()), Pointer.to(new int[] {cols}), Pointer.to(new int[] {rows})));
    finish(input, x, n);
  }

  /**
   * Interleaved RoPE in place on {@code v[row * stride + offset + 2i, +1]} for {@code i < pairs},
   * each row with its own angles: {@code angles} is {@code (2, rows, pairs)}, cosines then sines.
   */
  synchronized void ropeInterleaved(float[] v, int rows, int stride, int offset, int pairs, float[] angles) {
    int n = Math.multiplyExact(rows, stride);
    int half = Math.multiplyExact(rows, pairs);
    begin(v, n, angles, 2 * half, 0);
    launchFlat(kernels.ropeInterleaved, half, Pointer.to(
        Pointer.to(input.device()), Pointer.to(new int[] {stride}), Pointer.to(new int[] {offset}),
        Pointer.to(operand.device()), Pointer.to(operand.device().withByteOffset(4L * half)),
        Pointer.to(new int[] {pairs}), Pointer.to(new int[] {rows})));
    finish(input, v, n);
  }

  /** Copies the inputs to the device and makes room for {@code outFloats} of output. */
  private void begin(float[] in, int inFloats, float[] second, int secondFloats, int outFloats) {
    ensureOpen();
    device.makeCurrent();
    input.ensure(4L * Math.max(inFloats, 1));
    input.hostFloats().put(in, 0, inFloats);
    cuMemcpyHtoDAsync(input.device(), input.host(), 4L * inFloats, stream);
    if (second != null) {
      operand.ensure(4L * Math.max(secondFloats, 1));
      operand.hostFloats().put(second, 0, secondFloats);
      cuMemcpyHtoDAsync(operand.device(), operand.host(), 4L * secondFloats, stream);
    }
    output.ensure(4L * Math.max(outFloats, 1));
  }

  private void finish(StagingBuffers from, float[] to, int floats) {
    cuMemcpyDtoHAsync(from.host(), from.device(), 4L * floats, stream);
    cuStreamSynchronize(stream);
    from.hostFloats().get(to, 0, floats);
  }

  private void launchRows(CUfunction f, int rows, Pointer params) {
    int blocks = (rows + CudaKernels.ROWS_PER_BLOCK - 1) / CudaKernels.ROWS_PER_BLOCK;
    if (blocks > 0) {
      cuLaunchKernel(f, blocks, 1, 1, CudaKernels.ROWS_PER_BLOCK * CudaKernels.WARP_SIZE, 1, 1, 0, stream, params, null);
    }
  }

  private void launchFlat(CUfunction f, int n, Pointer params) {
    int blocks = (n + CudaKernels.POINTWISE_THREADS - 1) / CudaKernels.POINTWISE_THREADS;
    if (blocks > 0) {
      cuLaunchKernel(f, blocks, 1, 1, CudaKernels.POINTWISE_THREADS, 1, 1, 0, stream, params, null);
    }
  }

  private DeviceMatrix resident(WeightMatrix w) {
    DeviceMatrix d = resident.get(w);
    if (d == null) {
      d = DeviceMatrix.upload(w);
      resident.put(w, d);
      residentBytes += d.bytes;
    }
    return d;
  }

  /** Device bytes held by uploaded weights (for logs and the benchmark). */
  public synchronized long residentBytes() {
    return residentBytes;
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    return host.dot(a, aOffset, b, bOffset, n);
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    host.axpy(alpha, x, xOffset, y, yOffset, n);
  }

  @Override
  public void parallelFor(int count, IntConsumer body) {
    host.parallelFor(count, body);
  }

  @Override
  public int threads() {
    return host.threads();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("CUDA backend on device " + device.ordinal() + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      device.makeCurrent();
      cuStreamSynchronize(stream);
      for (DeviceMatrix d : resident.values()) {
        d.free();
      }
      resident.clear();
      input.close();
      output.close();
      operand.close();
      cuStreamDestroy(stream);
      kernels.close();
    } finally {
      device.close();
      host.close();
    }
  }
}
