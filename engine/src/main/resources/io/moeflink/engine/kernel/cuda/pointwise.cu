// Row-wise and element-wise steps of a transformer block: RMSNorm, SiLU-and-multiply, softmax,
// interleaved RoPE. Each reproduces the host code's arithmetic (engine/model) operation by
// operation with round-to-nearest intrinsics; where a sum is involved one warp reduces a row in a
// fixed order (lane-strided partial sums, then a butterfly), independent of the number of rows.
// Build flags: see build-ptx.sh (-ftz=false, -fmad=false, IEEE division and square root).

#include "float_exp.cuh"
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

// g[i] = silu(g[i]) * u[i], silu(z) = z / (1 + exp(-z)) with the host's exponential (float_exp.cuh).
// Launch: any 1-D grid covering n.
extern "C" __global__ void silu_and_multiply(float* g, const float* u, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const float z = g[i];
    const float e = float_exp(-z);
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

// Interleaved rotary embedding, in place: for each row, head and pair i of the slice at
// v + offset + row * rowStride + head * headStride, (a, b) -> (a cos - b sin, a sin + b cos) with
// the row's angles: angles is (rows, 2 * pairs), each row's cosines then its sines.
// Launch: any 1-D grid covering rows * heads * pairs.
extern "C" __global__ void rotate_heads(
    float* v, int offset, int rowStride, int headStride, int heads, int rows, const float* angles, int pairs) {
  const int total = rows * heads * pairs;
  for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < total; k += gridDim.x * blockDim.x) {
    const int i = k % pairs;
    const int h = (k / pairs) % heads;
    const int row = k / (pairs * heads);
    float* p = v + offset + (size_t)row * rowStride + (size_t)h * headStride + 2 * i;
    const float a = p[0];
    const float b = p[1];
    const float c = angles[(size_t)row * 2 * pairs + i];
    const float s = angles[(size_t)row * 2 * pairs + pairs + i];
    p[0] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
    p[1] = __fadd_rn(__fmul_rn(a, s), __fmul_rn(b, c));
  }
}

// acc[i] += x[i]: the residual connection. Launch: any 1-D grid covering n.
extern "C" __global__ void add_in_place(float* acc, const float* x, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    acc[i] = __fadd_rn(acc[i], x[i]);
  }
}

// x[i] = 1 / (1 + exp(-x[i])), exp in double rounded to float as the host's (float) Math.exp: the
// router's affinities. Launch: any 1-D grid covering n.
extern "C" __global__ void sigmoid_in_place(float* x, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const float e = (float)exp(-(double)x[i]);
    x[i] = __fdiv_rn(1.0f, __fadd_rn(1.0f, e));
  }
}

// dst row i = src row rows[i] (gather) or dst row rows[i] = src row i (scatter), rows of width
// floats. Launch: any 1-D grid covering count * width.
extern "C" __global__ void gather_rows(const float* src, const int* rows, int count, int width, float* dst) {
  const size_t total = (size_t)count * width;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total; k += (size_t)gridDim.x * blockDim.x) {
    const size_t i = k / width;
    const size_t c = k % width;
    dst[k] = src[(size_t)rows[i] * width + c];
  }
}

extern "C" __global__ void scatter_rows(const float* src, const int* rows, int count, int width, float* dst) {
  const size_t total = (size_t)count * width;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total; k += (size_t)gridDim.x * blockDim.x) {
    const size_t i = k / width;
    const size_t c = k % width;
    dst[(size_t)rows[i] * width + c] = src[k];
  }
}

// The MoE combine, in the host's order: for token t and column c, y = sum over j < k of
// out[row[t*k+j]][c] * w[t*k+j] (a rounded multiply, then a rounded add, ascending j = ascending
// expert id), then hidden[t][c] += shared ? y + shared[t][c] : y. Launch: any 1-D grid covering
// tokens * width.
extern "C" __global__ void combine_experts(
    float* hidden, int tokens, int width, int k, const float* weights, const float* outputs, const int* rowOf,
    const float* shared) {
  const size_t total = (size_t)tokens * width;
  for (size_t q = blockIdx.x * (size_t)blockDim.x + threadIdx.x; q < total; q += (size_t)gridDim.x * blockDim.x) {
    const size_t t = q / width;
    const size_t c = q % width;
    float y = 0.0f;
    for (int j = 0; j < k; j++) {
      const float o = outputs[(size_t)rowOf[t * k + j] * width + c];
      y = __fadd_rn(y, __fmul_rn(o, weights[t * k + j]));
    }
    const float ffn = shared ? __fadd_rn(y, shared[q]) : y;
    hidden[q] = __fadd_rn(hidden[q], ffn);
  }
}
