// y[t][r] = sum_c W[r][c] * x[t][c] for W stored F32, BF16 or FP8 E4M3 with 128x128 block scales,
// and the same per attention head (matmul_heads_*: one weight matrix per head, grid z = head).
// Rows of x and y may be strided (a head's slice of a token row): x row t starts at t * xStride,
// y row t at t * yStride.
//
// One warp computes one output row r for a tile of up to TOKEN_TILE tokens, so the row's weights
// are read once per tile. Lane l owns the column chunks [i*32*V + l*V, +V) for i = 0, 1, ...; it
// accumulates each token's chunk products with fused multiply-adds in column order, and the warp
// then adds the 32 lane sums with a fixed butterfly. That order depends on the matrix shape alone:
// a token computes the same bits whether it is alone in the call or the eighth of a tile, and no
// output is ever split across warps or atomics (DESIGN.md, Determinism).
//
// Every floating-point operation is an explicit round-to-nearest intrinsic (__fmaf_rn, __fmul_rn,
// __fadd_rn), which nvcc never contracts or reorders. Build with -ftz=false (build-ptx.sh):
// FP8 subnormal codes decode through F32 subnormals.

#include <stdint.h>

#include "warp.cuh"

// Warps per thread block; each owns one output row.
#define ROWS_PER_BLOCK 4
// Tokens one warp computes from a single read of its weight row.
#define TOKEN_TILE 8
// FP8 scale block edge, rows and columns.
#define FP8_BLOCK 128
// 2^120: rebases E4M3 bits placed in an F32 exponent field (bias 7 vs 127).
#define E4M3_REBIAS 0x1p120f

// Weight elements per lane chunk: one 16-byte load of F32 or BF16 (4 or 8), 4 bytes of FP8, so
// that 32 lanes x 4 FP8 codes cover exactly one 128-column scale block.
#define F32_CHUNK 4
#define BF16_CHUNK 8
#define FP8_CHUNK 4

enum Format { F32 = 0, BF16 = 1, FP8 = 2 };

__device__ __forceinline__ float bf16_value(uint32_t bits16) {
  return __uint_as_float(bits16 << 16);
}

// The exact value of an E4M3 code: its magnitude bits placed at the top of an F32 mantissa give
// the value times 2^-120 (exponent field 0, the subnormals, lands on F32 subnormals), and the
// power-of-two rebase is exact. The NaN code 0x7F reads as 480; checkpoints never contain it.
__device__ __forceinline__ float e4m3_value(uint32_t code) {
  uint32_t bits = ((code & 0x7Fu) << 20) | ((code & 0x80u) << 24);
  return __fmul_rn(__uint_as_float(bits), E4M3_REBIAS);
}

template <int FMT>
struct Chunk;

template <>
struct Chunk<F32> {
  static const int V = F32_CHUNK;
};
template <>
struct Chunk<BF16> {
  static const int V = BF16_CHUNK;
};
template <>
struct Chunk<FP8> {
  static const int V = FP8_CHUNK;
};

// Loads W[r][c0 .. c0+V) as F32. WHOLE: cols is a multiple of V, so the chunk lies inside the
// row and starts on a V-element boundary of an allocation aligned to 256 bytes. Otherwise each
// element is loaded alone and those past the row's end read as 0 (never summed, see below).
template <int FMT, bool WHOLE>
__device__ __forceinline__ void load_weights(const void* w, size_t rowStart, int cols, int c0, float* out) {
  const int V = Chunk<FMT>::V;
  if (FMT == F32) {
    const float* p = (const float*)w + rowStart + c0;
    if (WHOLE) {
      float4 v = *(const float4*)p;
      out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
    } else {
#pragma unroll
      for (int j = 0; j < V; j++) out[j] = c0 + j < cols ? p[j] : 0.0f;
    }
  } else if (FMT == BF16) {
    const uint16_t* p = (const uint16_t*)w + rowStart + c0;
    if (WHOLE) {
      uint4 v = *(const uint4*)p;  // 8 BF16 values, element 2k in the low half of word k
      uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int k = 0; k < 4; k++) {
        out[2 * k] = bf16_value(words[k] & 0xFFFFu);
        out[2 * k + 1] = bf16_value(words[k] >> 16);
      }
    } else {
#pragma unroll
      for (int j = 0; j < V; j++) out[j] = c0 + j < cols ? bf16_value(p[j]) : 0.0f;
    }
  } else {
    const uint8_t* p = (const uint8_t*)w + rowStart + c0;
    if (WHOLE) {
      uint32_t v = *(const uint32_t*)p;  // 4 codes, element j in byte j
#pragma unroll
      for (int j = 0; j < V; j++) out[j] = e4m3_value((v >> (8 * j)) & 0xFFu);
    } else {
#pragma unroll
      for (int j = 0; j < V; j++) out[j] = c0 + j < cols ? e4m3_value(p[j]) : 0.0f;
    }
  }
}

template <int V, bool WHOLE>
__device__ __forceinline__ void load_activations(const float* x, int cols, int c0, float* out) {
  if (WHOLE) {
#pragma unroll
    for (int j = 0; j < V; j += 4) {
      float4 v = *(const float4*)(x + c0 + j);
      out[j] = v.x; out[j + 1] = v.y; out[j + 2] = v.z; out[j + 3] = v.w;
    }
  } else {
#pragma unroll
    for (int j = 0; j < V; j++) out[j] = c0 + j < cols ? x[c0 + j] : 0.0f;
  }
}

// One warp: row r, tokens [t0, t0 + tileTokens).
// FP8: each lane sums its 4 products of a block, then adds that partial times the block's scale,
// so a lane's chunk i is exactly scale block i. The scale row of stored row (scaleRow0 + r) is
// (scaleRow0 + r) / 128: a view of rows keeps the scales of its whole tensor.
template <int FMT, bool WHOLE>
__device__ void matmul_warp(
    const void* w, const float* scales, int scaleRow0, int scaleCols, int rows, int cols,
    const float* x, int xStride, int tokens, float* y, int yStride) {
  const int V = Chunk<FMT>::V;
  const int lane = threadIdx.x % WARP_SIZE;
  const int r = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
  if (r >= rows) {
    return;  // the whole warp: r is the same on every lane
  }
  const int t0 = blockIdx.y * TOKEN_TILE;
  const int tileTokens = min(TOKEN_TILE, tokens - t0);
  const size_t rowStart = (size_t)r * cols;
  const float* scaleRow = FMT == FP8 ? scales + (size_t)((scaleRow0 + r) / FP8_BLOCK) * scaleCols : 0;

  float acc[TOKEN_TILE];
#pragma unroll
  for (int k = 0; k < TOKEN_TILE; k++) acc[k] = 0.0f;

  for (int c0 = lane * V, chunk = 0; c0 < cols; c0 += WARP_SIZE * V, chunk++) {
    float wv[V];
    load_weights<FMT, WHOLE>(w, rowStart, cols, c0, wv);
    const float scale = FMT == FP8 ? scaleRow[chunk] : 1.0f;
#pragma unroll
    for (int k = 0; k < TOKEN_TILE; k++) {
      if (k < tileTokens) {
        float xv[V];
        load_activations<V, WHOLE>(x + (size_t)(t0 + k) * xStride, cols, c0, xv);
        if (FMT == FP8) {
          float partial = 0.0f;
#pragma unroll
          for (int j = 0; j < V; j++) {
            if (WHOLE || c0 + j < cols) partial = __fmaf_rn(wv[j], xv[j], partial);
          }
          acc[k] = __fmaf_rn(partial, scale, acc[k]);
        } else {
#pragma unroll
          for (int j = 0; j < V; j++) {
            if (WHOLE || c0 + j < cols) acc[k] = __fmaf_rn(wv[j], xv[j], acc[k]);
          }
        }
      }
    }
  }

#pragma unroll
  for (int k = 0; k < TOKEN_TILE; k++) {
    if (k < tileTokens) {
      const float sum = warp_sum(acc[k]);
      if (lane == 0) {
        y[(size_t)(t0 + k) * yStride + r] = sum;
      }
    }
  }
}

template <int FMT>
__device__ __forceinline__ void matmul(
    const void* w, const float* scales, int scaleRow0, int scaleCols, int rows, int cols,
    const float* x, int xStride, int tokens, float* y, int yStride) {
  // The whole-chunk path needs chunk-aligned weight rows and 16-byte aligned activation rows; the
  // choice depends on the operands' shapes and strides alone, so a matrix always takes the same
  // path (and both paths sum in the same order).
  bool whole = cols % Chunk<FMT>::V == 0 && xStride % 4 == 0 && ((size_t)x & 15) == 0;
  if (whole) {
    matmul_warp<FMT, true>(w, scales, scaleRow0, scaleCols, rows, cols, x, xStride, tokens, y, yStride);
  } else {
    matmul_warp<FMT, false>(w, scales, scaleRow0, scaleCols, rows, cols, x, xStride, tokens, y, yStride);
  }
}

// Launch: block (ROWS_PER_BLOCK * 32), grid (ceil(rows / ROWS_PER_BLOCK), ceil(tokens / TOKEN_TILE)).
// w: (rows, cols) row-major; x: (tokens, >= cols) with row stride xStride; y: (tokens, >= rows)
// with row stride yStride.

extern "C" __global__ void matmul_f32(
    const float* w, int rows, int cols, const float* x, int xStride, int tokens, float* y, int yStride) {
  matmul<F32>(w, 0, 0, 0, rows, cols, x, xStride, tokens, y, yStride);
}

extern "C" __global__ void matmul_bf16(
    const uint16_t* w, int rows, int cols, const float* x, int xStride, int tokens, float* y, int yStride) {
  matmul<BF16>(w, 0, 0, 0, rows, cols, x, xStride, tokens, y, yStride);
}

// scales: (ceil(storedRows / 128), scaleCols) of the whole stored tensor; w starts at stored row
// scaleRow0.
extern "C" __global__ void matmul_fp8(
    const uint8_t* w, const float* scales, int scaleRow0, int scaleCols, int rows, int cols,
    const float* x, int xStride, int tokens, float* y, int yStride) {
  matmul<FP8>(w, scales, scaleRow0, scaleCols, rows, cols, x, xStride, tokens, y, yStride);
}

// Per head h = blockIdx.z: weights w[h] (all heads the same shape and format), input rows at
// x + h * xHeadStride, outputs at y + h * yHeadStride. FP8 heads are row views of one tensor:
// they share its scales and start at stored rows scaleRow0[h].
// Launch: as matmul_*, with grid z = heads.

extern "C" __global__ void matmul_heads_f32(
    const unsigned long long* w, int rows, int cols, const float* x, int xStride, int xHeadStride, int tokens,
    float* y, int yStride, int yHeadStride) {
  const int h = blockIdx.z;
  matmul<F32>((const float*)w[h], 0, 0, 0, rows, cols, x + (size_t)h * xHeadStride, xStride, tokens,
      y + (size_t)h * yHeadStride, yStride);
}

extern "C" __global__ void matmul_heads_bf16(
    const unsigned long long* w, int rows, int cols, const float* x, int xStride, int xHeadStride, int tokens,
    float* y, int yStride, int yHeadStride) {
  const int h = blockIdx.z;
  matmul<BF16>((const uint16_t*)w[h], 0, 0, 0, rows, cols, x + (size_t)h * xHeadStride, xStride, tokens,
      y + (size_t)h * yHeadStride, yStride);
}

extern "C" __global__ void matmul_heads_fp8(
    const unsigned long long* w, const float* scales, const int* scaleRow0, int scaleCols, int rows, int cols,
    const float* x, int xStride, int xHeadStride, int tokens, float* y, int yStride, int yHeadStride) {
  const int h = blockIdx.z;
  matmul<FP8>((const uint8_t*)w[h], scales, scaleRow0[h], scaleCols, rows, cols, x + (size_t)h * xHeadStride,
      xStride, tokens, y + (size_t)h * yHeadStride, yStride);
}
