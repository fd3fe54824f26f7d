// Row-wise and element-wise steps of a transformer block: RMSNorm, SiLU-and-multiply, softmax,
// interleaved RoPE. Each reproduces the host code's arithmetic (engine/model) operation by
// operation with round-to-nearest intrinsics; where a sum is involved one warp reduces a row in a
// fixed order (lane-strided partial sums, then a butterfly), independent of the number of rows.
// Build flags: see build-ptx.sh (-ftz=false, -fmad=false, IEEE division and square root).

#include "warp.cuh"

// Warps per thread block for the row kernels; each owns one row.
#define ROWS_PER_BLOCK 4

// y = x / sqrt(mean(x^2) + eps) * w per row, the sum of squares in double as on the host (a
// product of two floats is exact in double, so the fused multiply-add equals the host's sum).
// Launch: block (ROWS_PER_BLOCK * 32), grid (ceil(rows / ROWS_PER_BLOCK)).
extern "C" __global__ void rms_norm(
    const float* x, int xStride, const float* weight, int dim, double eps, int rows, float* y, int yStride) {
  const int lane = threadIdx.x % WARP_SIZE;
  const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
  if (row >= rows) {
    return;
  }
  const float* xr = x + (size_t)row * xStride;
  float* yr = y + (size_t)row * yStride;
  double sumSquares = 0.0;
  for (int i = lane; i < dim; i += WARP_SIZE) {
    sumSquares = __fma_rn((double)xr[i], (double)xr[i], sumSquares);
  }
  sumSquares = warp_sum_double(sumSquares);
  const float inv = (float)__drcp_rn(__dsqrt_rn(__dadd_rn(__ddiv_rn(sumSquares, (double)dim), eps)));
  for (int i = lane; i < dim; i += WARP_SIZE) {
    yr[i] = __fmul_rn(__fmul_rn(xr[i], inv), weight[i]);
  }
}

// g[i] = silu(g[i]) * u[i], silu(z) = z / (1 + exp(-z)) with exp in double rounded to float, as
// the host's (float) Math.exp. Launch: any 1-D grid covering n.
extern "C" __global__ void silu_and_multiply(float* g, const float* u, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const float z = g[i];
    const float e = (float)exp(-(double)z);
    g[i] = __fmul_rn(__fdiv_rn(z, __fadd_rn(1.0f, e)), u[i]);
  }
}

// In place, per row: x = exp(x - max) / sum. Launch: as rms_norm.
extern "C" __global__ void softmax_rows(float* x, int cols, int rows) {
  const int lane = threadIdx.x % WARP_SIZE;
  const int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
  if (row >= rows) {
    return;
  }
  float* xr = x + (size_t)row * cols;
  float max = -INFINITY;
  for (int i = lane; i < cols; i += WARP_SIZE) {
    max = fmaxf(max, xr[i]);
  }
  max = warp_max(max);
  float sum = 0.0f;
  for (int i = lane; i < cols; i += WARP_SIZE) {
    const float e = (float)exp((double)__fsub_rn(xr[i], max));
    xr[i] = e;
    sum = __fadd_rn(sum, e);
  }
  sum = warp_sum(sum);
  for (int i = lane; i < cols; i += WARP_SIZE) {
    xr[i] = __fdiv_rn(xr[i], sum);
  }
}

// Interleaved rotary embedding, in place: for each row and pair i of v[row * stride + offset ..],
// (a, b) -> (a cos - b sin, a sin + b cos) with the row's own angles cos/sin (rows, pairs).
// Launch: any 1-D grid covering rows * pairs.
extern "C" __global__ void rope_interleaved(
    float* v, int stride, int offset, const float* cos, const float* sin, int pairs, int rows) {
  const int total = rows * pairs;
  for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < total; k += gridDim.x * blockDim.x) {
    const int row = k / pairs;
    const int i = k % pairs;
    float* p = v + (size_t)row * stride + offset + 2 * i;
    const float a = p[0];
    const float b = p[1];
    const float c = cos[k];
    const float s = sin[k];
    p[0] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
    p[1] = __fadd_rn(__fmul_rn(a, s), __fmul_rn(b, c));
  }
}
