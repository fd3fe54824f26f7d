package io.moeflink.engine.kernel.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.moeflink.engine.checkpoint.DType;
import io.moeflink.engine.kernel.Activations;
import io.moeflink.engine.kernel.BackendKind;
import io.moeflink.engine.kernel.Backends;
import io.moeflink.engine.kernel.CacheRows;
import io.moeflink.engine.kernel.ExpertOutputs;
import io.moeflink.engine.kernel.HeadLayout;
import io.moeflink.engine.kernel.KernelBackend;
import io.moeflink.engine.kernel.RowLayout;
import io.moeflink.engine.kernel.WeightMatrix;
import io.moeflink.engine.kernel.WeightVector;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block operations on an NVIDIA GPU through JCuda's driver API, with a pass's activations,
 * the sequences' latent caches and the expert batches in device memory. A pass uploads its new
 * tokens' embeddings (and angles) once, runs every operation as a kernel on the device and
 * downloads only what the host needs: the router's scores and the rows for the expert shards at
 * each MoE layer, and the logits at the end. An expert shard uploads a layer's batch once and
 * downloads its result once.
 *
 * <p>Weights are uploaded on first use and then stay, in their stored dtype (BF16 and FP8 codes
 * are decoded by the kernels); the caches are keyed by the {@link WeightMatrix} and {@link
 * WeightVector} objects, which a loaded model or expert shard holds for its lifetime, so open the
 * backend per model and close it with the model.
 *
 * <p>Everything runs on one stream per backend, in the order of the calls; activations come from
 * a {@link DevicePool} whose blocks are reused in stream order. Host-to-device copies from Java
 * arrays are staged by the driver before the call returns, so the arrays may change at once.
 * Driven by one thread at a time (each call makes the device's context current on its thread).
 *
 * <p>Determinism: every sum is reduced in an order fixed by the operands' shapes (one warp per
 * output row of a matmul, {@code matmul.cu}; one warp per row or position elsewhere), so results
 * are bitwise independent of the batch, the call and the host threads, like the CPU backends'
 * (though not bitwise equal to theirs).
 *
 * <pre>{@code
 * try (KernelBackend k = Backends.create(BackendKind.CUDA, threads, device)) {
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
  private final DevicePool pool = new DevicePool();
  private final Map<WeightMatrix, DeviceMatrix> matrices = new IdentityHashMap<>();
  private final Map<WeightVector, DeviceActivations> vectors = new IdentityHashMap<>();
  private final Map<WeightMatrix[], HeadTable> heads = new IdentityHashMap<>();
  private final KernelBackend host; // the host-array kernels (dot, axpy)
  private CacheRows tableOf; // the cache rows whose device table is current
  private CacheTable table;
  private long residentBytes;
  private boolean closed;

  private CudaBackend(CudaDevice device, CudaKernels kernels, CUstream stream, KernelBackend host) {
    this.device = device;
    this.kernels = kernels;
    this.stream = stream;
    this.host = host;
  }

  /**
   * A backend on CUDA device {@code ordinal} (as numbered after {@code CUDA_VISIBLE_DEVICES})
   * with {@code hostThreads} CPU threads for the host-array kernels.
   *
   * @throws IllegalStateException without JCuda natives, driver or such a device; never falls back
   */
  public static CudaBackend open(int ordinal, int hostThreads) {
    CudaDevice device = CudaDevice.open(ordinal);
    try {
      CudaKernels kernels = new CudaKernels();
      CUstream stream = new CUstream();
      cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
      CudaBackend backend = new CudaBackend(device, kernels, stream, Backends.cpu(BackendKind.AUTO, hostThreads));
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
  public int threads() {
    return host.threads();
  }

  // ---- activations

  @Override
  public Activations allocate(int floats) {
    DeviceActivations a = take(floats);
    if (floats > 0) {
      cuMemsetD32Async(a.pointer(), 0, floats, stream);
    }
    return a;
  }

  private DeviceActivations take(int floats) {
    begin();
    return new DeviceActivations(pool, pool.take(4L * Math.max(floats, 1)), floats);
  }

  @Override
  public Activations upload(float[] values) {
    DeviceActivations a = take(values.length);
    write(a, 0, values, 0, values.length);
    return a;
  }

  @Override
  public void write(Activations dst, int dstOffset, float[] src, int srcOffset, int n) {
    begin();
    check(dst, dstOffset, n);
    if (n > 0) {
      cuMemcpyHtoDAsync(at(dst, dstOffset), Pointer.to(src).withByteOffset(4L * srcOffset), 4L * n, stream);
    }
  }

  @Override
  public void read(Activations src, int srcOffset, float[] dst, int dstOffset, int n) {
    begin();
    check(src, srcOffset, n);
    if (n > 0) {
      cuMemcpyDtoHAsync(Pointer.to(dst).withByteOffset(4L * dstOffset), at(src, srcOffset), 4L * n, stream);
    }
    cuStreamSynchronize(stream);
  }

  @Override
  public float[] toHost(Activations src, int n) {
    float[] out = new float[n];
    read(src, 0, out, 0, n);
    return out;
  }

  @Override
  public void gatherRows(Activations src, int[] rows, int width, Activations dst) {
    rowCopy(kernels.gatherRows, src, rows, width, dst);
  }

  @Override
  public void scatterRows(Activations src, int[] rows, int width, Activations dst) {
    rowCopy(kernels.scatterRows, src, rows, width, dst);
  }

  private void rowCopy(CUfunction f, Activations src, int[] rows, int width, Activations dst) {
    if (rows.length == 0) {
      return;
    }
    try (DeviceActivations index = ints(rows)) {
      launchFlat(f, (long) rows.length * width, new KernelParams()
          .address(dev(src)).address(index.pointer()).ints(rows.length, width).address(dev(dst)));
    }
  }

  @Override
  public void copy(Activations src, int srcOffset, Activations dst, int dstOffset, int n) {
    begin();
    check(src, srcOffset, n);
    check(dst, dstOffset, n);
    if (n > 0) {
      cuMemcpyDtoDAsync(at(dst, dstOffset), at(src, srcOffset), 4L * n, stream);
    }
  }

  // ---- block operations

  @Override
  public void matmul(WeightMatrix w, Activations x, int tokens, Activations y) {
    begin();
    if (tokens == 0 || w.rows() == 0) {
      return;
    }
    checkGrid(tokens);
    DeviceMatrix d = resident(w);
    KernelParams params = new KernelParams().address(d.weights);
    if (d.dtype == DType.F8_E4M3) {
      params.address(d.scales).ints(d.scaleRow0, d.scaleCols);
    }
    params.ints(d.rows, d.cols).address(dev(x)).ints(d.cols, tokens).address(dev(y)).ints(d.rows);
    CUfunction f = d.dtype == DType.F32 ? kernels.matmulF32 : d.dtype == DType.BF16 ? kernels.matmulBf16 : kernels.matmulFp8;
    launchMatmul(f, d.rows, tokens, 1, params);
  }

  @Override
  public void matmulPerHead(WeightMatrix[] w, Activations x, HeadLayout in, int tokens, Activations y, HeadLayout out) {
    begin();
    if (tokens == 0 || w.length == 0) {
      return;
    }
    checkGrid(tokens);
    HeadTable t = heads(w);
    CUdeviceptr xs = at(x, in.offset());
    CUdeviceptr ys = at(y, out.offset());
    DeviceMatrix first = t.first;
    KernelParams params = new KernelParams().address(t.weights.pointer());
    CUfunction f;
    if (first.dtype == DType.F8_E4M3) {
      f = kernels.matmulHeadsFp8;
      params.address(first.scales).address(t.scaleRows.pointer()).ints(first.scaleCols);
    } else {
      f = first.dtype == DType.F32 ? kernels.matmulHeadsF32 : kernels.matmulHeadsBf16;
    }
    params.ints(first.rows, first.cols).address(xs).ints(in.rowStride(), in.headStride(), tokens)
        .address(ys).ints(out.rowStride(), out.headStride());
    launchMatmul(f, first.rows, tokens, w.length, params);
  }

  @Override
  public void rmsNorm(Activations x, RowLayout in, int rows, WeightVector weight, double eps, Activations y, RowLayout out) {
    begin();
    launchRows(kernels.rmsNorm, rows, new KernelParams()
        .address(at(x, in.offset())).ints(in.stride()).address(resident(weight)).ints(weight.length()).doubles(eps)
        .ints(rows).address(at(y, out.offset())).ints(out.stride()));
  }

  @Override
  public void rotate(Activations v, HeadLayout at, int heads, int rows, Activations angles) {
    begin();
    int pairs = rows == 0 ? 0 : angles.length() / rows / 2;
    launchFlat(kernels.rotateHeads, (long) rows * heads * pairs, new KernelParams()
        .address(dev(v)).ints(at.offset(), at.rowStride(), at.headStride(), heads, rows).address(dev(angles)).ints(pairs));
  }

  @Override
  public void siluMultiply(Activations g, Activations u, int n) {
    begin();
    launchFlat(kernels.siluAndMultiply, n, new KernelParams().address(dev(g)).address(dev(u)).ints(n));
  }

  @Override
  public void add(Activations acc, Activations x, int n) {
    begin();
    launchFlat(kernels.addInPlace, n, new KernelParams().address(dev(acc)).address(dev(x)).ints(n));
  }

  @Override
  public void routerScores(WeightMatrix gate, Activations x, int tokens, Activations scores) {
    matmul(gate, x, tokens, scores);
    int n = tokens * gate.rows();
    launchFlat(kernels.sigmoidInPlace, n, new KernelParams().address(dev(scores)).ints(n));
  }

  @Override
  public void cacheLatents(
      Activations kva, int rank, int ropeDim, WeightVector kvNorm, double eps, Activations angles, CacheRows cache) {
    begin();
    CacheTable t = table(cache);
    launchRows(kernels.cacheLatents, cache.rows(), new KernelParams()
        .address(dev(kva)).ints(cache.rows(), rank, ropeDim).address(resident(kvNorm)).doubles(eps).address(dev(angles))
        .address(t.latents.pointer()).address(t.ropeKeys.pointer()).address(t.positions.pointer()));
  }

  @Override
  public void latentAttention(
      Activations queryLatent, Activations query, HeadLayout queryRope, int heads, int rank, int ropeDim, float scale,
      CacheRows cache, Activations out) {
    begin();
    if (cache.rows() == 0) {
      return;
    }
    CacheTable t = table(cache);
    int maxLength = 0;
    for (int p : cache.positions()) {
      maxLength = Math.max(maxLength, p + 1);
    }
    try (DeviceActivations scores = take(Math.multiplyExact(cache.rows() * heads, maxLength))) {
      Pointer params = new KernelParams()
          .address(dev(queryLatent)).address(dev(query)).ints(queryRope.offset(), queryRope.rowStride(),
              queryRope.headStride(), heads, rank, ropeDim)
          .floats(scale).address(t.latents.pointer()).address(t.ropeKeys.pointer()).address(t.positions.pointer())
          .address(scores.pointer()).ints(maxLength).address(dev(out)).build();
      cuLaunchKernel(kernels.latentAttention, cache.rows(), heads, 1, CudaKernels.ATTENTION_WARPS * CudaKernels.WARP_SIZE,
          1, 1, 0, stream, params, null);
    }
  }

  @Override
  public void combineExperts(Activations hidden, int width, ExpertOutputs experts, Activations shared) {
    begin();
    float[][] sources = experts.sources();
    int[] firstRow = new int[sources.length];
    int rows = 0;
    for (int s = 0; s < sources.length; s++) {
      firstRow[s] = rows;
      rows += sources[s] == null ? 0 : sources[s].length / width;
    }
    int[] rowOf = new int[experts.rowOf().length];
    for (int i = 0; i < rowOf.length; i++) {
      rowOf[i] = firstRow[experts.sourceOf()[i]] + experts.rowOf()[i];
    }
    try (DeviceActivations outputs = take(rows * width); DeviceActivations weights = take(experts.weights().length);
        DeviceActivations index = ints(rowOf)) {
      for (int s = 0; s < sources.length; s++) {
        if (sources[s] != null) {
          write(outputs, firstRow[s] * width, sources[s], 0, sources[s].length);
        }
      }
      write(weights, 0, experts.weights(), 0, experts.weights().length);
      KernelParams params = new KernelParams().address(dev(hidden)).ints(experts.tokens(), width, experts.k())
          .address(weights.pointer()).address(outputs.pointer()).address(index.pointer());
      launchFlat(kernels.combineExperts, (long) experts.tokens() * width, shared == null ? params.none()
          : params.address(dev(shared)));
    }
  }

  // ---- host-array kernels

  @Override
  public void matmul(WeightMatrix w, float[] x, int tokens, float[] y) {
    long in = Math.multiplyExact((long) tokens, w.cols());
    long out = Math.multiplyExact((long) tokens, w.rows());
    if (x.length < in || y.length < out) {
      throw new IllegalArgumentException(
          "matmul of " + w.name() + " [" + w.rows() + ", " + w.cols() + "] for " + tokens + " tokens needs x of " + in
              + " and y of " + out + " floats, got " + x.length + " and " + y.length);
    }
    try (DeviceActivations dx = take((int) in); DeviceActivations dy = take((int) out)) {
      write(dx, 0, x, 0, (int) in);
      matmul(w, dx, tokens, dy);
      read(dy, 0, y, 0, (int) out);
    }
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
    return host.dot(a, aOffset, b, bOffset, n);
  }

  @Override
  public void axpy(float alpha, float[] x, int xOffset, float[] y, int yOffset, int n) {
    host.axpy(alpha, x, xOffset, y, yOffset, n);
  }

  /** In order, on the calling thread: the device is the parallel part, and the stream is one. */
  @Override
  public void parallelFor(int count, IntConsumer body) {
    for (int i = 0; i < count; i++) {
      body.accept(i);
    }
  }

  // ---- resident weights and tables

  @Override
  public void prepare(List<WeightMatrix> weights) {
    for (WeightMatrix w : weights) {
      resident(w);
    }
  }

  private DeviceMatrix resident(WeightMatrix w) {
    DeviceMatrix d = matrices.get(w);
    if (d == null) {
      d = DeviceMatrix.upload(w);
      matrices.put(w, d);
      residentBytes += d.bytes;
    }
    return d;
  }

  private CUdeviceptr resident(WeightVector v) {
    DeviceActivations d = vectors.get(v);
    if (d == null) {
      d = (DeviceActivations) upload(v.values());
      vectors.put(v, d);
      residentBytes += 4L * v.length();
    }
    return d.pointer();
  }

  /** The device addresses of per-head weights, and their first stored rows (for FP8 scales). */
  private static final class HeadTable {
    final DeviceMatrix first;
    final DeviceActivations weights; // (heads) device addresses, 8 bytes each
    final DeviceActivations scaleRows; // (heads) int

    HeadTable(DeviceMatrix first, DeviceActivations weights, DeviceActivations scaleRows) {
      this.first = first;
      this.weights = weights;
      this.scaleRows = scaleRows;
    }
  }

  private HeadTable heads(WeightMatrix[] w) {
    HeadTable t = heads.get(w);
    if (t == null) {
      CUdeviceptr[] pointers = new CUdeviceptr[w.length];
      int[] scaleRows = new int[w.length];
      for (int h = 0; h < w.length; h++) {
        DeviceMatrix d = resident(w[h]);
        if (d.rows != w[0].rows() || d.cols != w[0].cols() || d.dtype != w[0].dtype()) {
          throw new IllegalArgumentException("Per-head weights differ in shape or dtype: " + w[0].name() + " vs " + w[h].name());
        }
        pointers[h] = d.weights;
        scaleRows[h] = d.scaleRow0;
      }
      t = new HeadTable(resident(w[0]), addresses(pointers), ints(scaleRows));
      heads.put(w, t);
    }
    return t;
  }

  /** The device table of one layer's cache rows: per row its latent and rotary-key caches, its position. */
  private static final class CacheTable implements AutoCloseable {
    final DeviceActivations latents;
    final DeviceActivations ropeKeys;
    final DeviceActivations positions;

    CacheTable(DeviceActivations latents, DeviceActivations ropeKeys, DeviceActivations positions) {
      this.latents = latents;
      this.ropeKeys = ropeKeys;
      this.positions = positions;
    }

    @Override
    public void close() {
      latents.close();
      ropeKeys.close();
      positions.close();
    }
  }

  /** Uploads {@code cache}'s table unless it is the one current (a layer's write and attention share it). */
  private CacheTable table(CacheRows cache) {
    if (cache != tableOf) {
      if (table != null) {
        table.close();
      }
      CUdeviceptr[] latents = new CUdeviceptr[cache.rows()];
      CUdeviceptr[] ropeKeys = new CUdeviceptr[cache.rows()];
      for (int i = 0; i < cache.rows(); i++) {
        latents[i] = dev(cache.latents()[i]);
        ropeKeys[i] = dev(cache.ropeKeys()[i]);
      }
      table = new CacheTable(addresses(latents), addresses(ropeKeys), ints(cache.positions()));
      tableOf = cache;
    }
    return table;
  }

  /** A device array of device addresses. */
  private DeviceActivations addresses(CUdeviceptr[] pointers) {
    DeviceActivations a = take(2 * Math.max(pointers.length, 1));
    if (pointers.length > 0) {
      cuMemcpyHtoDAsync(a.pointer(), Pointer.to(pointers), 8L * pointers.length, stream);
    }
    return a;
  }

  /** A device array of ints. */
  private DeviceActivations ints(int[] values) {
    DeviceActivations a = take(Math.max(values.length, 1));
    if (values.length > 0) {
      cuMemcpyHtoDAsync(a.pointer(), Pointer.to(values), 4L * values.length, stream);
    }
    return a;
  }

  // ---- launches

  private void launchMatmul(CUfunction f, int rows, int tokens, int heads, KernelParams params) {
    int rowBlocks = (rows + CudaKernels.ROWS_PER_BLOCK - 1) / CudaKernels.ROWS_PER_BLOCK;
    int tokenTiles = (tokens + CudaKernels.TOKEN_TILE - 1) / CudaKernels.TOKEN_TILE;
    cuLaunchKernel(f, rowBlocks, tokenTiles, heads, CudaKernels.ROWS_PER_BLOCK * CudaKernels.WARP_SIZE, 1, 1, 0,
        stream, params.build(), null);
  }

  private void launchRows(CUfunction f, int rows, KernelParams params) {
    int blocks = (rows + CudaKernels.ROWS_PER_BLOCK - 1) / CudaKernels.ROWS_PER_BLOCK;
    if (blocks > 0) {
      cuLaunchKernel(f, blocks, 1, 1, CudaKernels.ROWS_PER_BLOCK * CudaKernels.WARP_SIZE, 1, 1, 0, stream, params.build(),
          null);
    }
  }

  private void launchFlat(CUfunction f, long n, KernelParams params) {
    long blocks = Math.min((n + CudaKernels.POINTWISE_THREADS - 1) / CudaKernels.POINTWISE_THREADS, 65535L * 16);
    if (blocks > 0) {
      cuLaunchKernel(f, (int) blocks, 1, 1, CudaKernels.POINTWISE_THREADS, 1, 1, 0, stream, params.build(), null);
    }
  }

  private static void checkGrid(int tokens) {
    if (tokens > (long) CudaKernels.MAX_GRID_Y * CudaKernels.TOKEN_TILE) {
      throw new IllegalArgumentException(
          tokens + " tokens in one matmul exceed the kernel grid's " + (long) CudaKernels.MAX_GRID_Y * CudaKernels.TOKEN_TILE
              + "; split the batch");
    }
  }

  // ---- buffers of this backend

  private CUdeviceptr dev(Activations a) {
    if (!(a instanceof DeviceActivations d) || !d.belongsTo(pool)) {
      throw new IllegalArgumentException(a + " does not belong to " + name() + ": pass buffers to the backend that made them");
    }
    return d.pointer();
  }

  private CUdeviceptr at(Activations a, int offset) {
    return offset == 0 ? dev(a) : dev(a).withByteOffset(4L * offset);
  }

  private static void check(Activations a, int offset, int n) {
    if (offset < 0 || n < 0 || offset + n > a.length()) {
      throw new IndexOutOfBoundsException("[" + offset + ", " + (offset + n) + ") of " + a);
    }
  }

  private void begin() {
    if (closed) {
      throw new IllegalStateException("CUDA backend on device " + device.ordinal() + " is closed");
    }
    device.makeCurrent();
  }

  /** Device bytes held by uploaded weights (for logs and the benchmark). */
  public long residentBytes() {
    return residentBytes;
  }

  /** Device bytes held for activations and caches, in use or free for reuse. */
  public long activationBytes() {
    return pool.heldBytes();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    try {
      device.makeCurrent();
      cuStreamSynchronize(stream);
      for (DeviceMatrix d : matrices.values()) {
        d.free();
      }
      matrices.clear();
      vectors.clear();
      heads.clear();
      pool.close();
      cuStreamDestroy(stream);
      kernels.close();
    } finally {
      closed = true;
      device.close();
      host.close();
    }
  }
}
