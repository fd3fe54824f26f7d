// MLA's latent cache and absorbed attention on the device: the cache write (normalised latent,
// rotated k_pe) and, per (row, head), softmax over the cached positions and the weighted sum of
// latents. Every row runs the same loop whether it is prefill or decode, as on the host; sums are
// reduced in an order fixed by the shapes (lane-strided partials, then the warp butterfly), so
// results do not depend on the batch. Build flags: see build-ptx.sh.

#include "float_exp.cuh"
#include "warp.cuh"

// Warps per thread block of the attention kernel.
#define ATTENTION_WARPS 4

// For row i (one warp per row): the latent kva[i][0 .. rank) RMS-normalised into
// latents[i][p_i * rank ..], and k_pe = kva[i][rank .. rank + dr) rotated in place by the row's
// angles ((rows, dr): cosines then sines) and copied to ropeKeys[i][p_i * dr ..]. The caches are
// given per row as device addresses. Launch: block (ROWS_PER_BLOCK * 32), grid (ceil(rows / 4)).
extern "C" __global__ void cache_latents(
    float* kva, int rows, int rank, int ropeDim, const float* norm, double eps, const float* angles,
    const unsigned long long* latents, const unsigned long long* ropeKeys, const int* positions) {
  const int lane = threadIdx.x % WARP_SIZE;
  const int row = blockIdx.x * 4 + threadIdx.x / WARP_SIZE;
  if (row >= rows) {
    return;
  }
  float* x = kva + (size_t)row * (rank + ropeDim);
  float* latent = (float*)latents[row] + (size_t)positions[row] * rank;
  float* ropeKey = (float*)ropeKeys[row] + (size_t)positions[row] * ropeDim;
  double sumSquares = 0.0;
  for (int c = lane; c < rank; c += WARP_SIZE) {
    sumSquares = __fma_rn((double)x[c], (double)x[c], sumSquares);
  }
  sumSquares = warp_sum_double(sumSquares);
  const float inv = (float)__drcp_rn(__dsqrt_rn(__dadd_rn(__ddiv_rn(sumSquares, (double)rank), eps)));
  for (int c = lane; c < rank; c += WARP_SIZE) {
    latent[c] = __fmul_rn(__fmul_rn(x[c], inv), norm[c]);
  }
  const int pairs = ropeDim / 2;
  const float* cosines = angles + (size_t)row * ropeDim;
  for (int i = lane; i < pairs; i += WARP_SIZE) {
    float* p = x + rank + 2 * i;
    const float a = p[0];
    const float b = p[1];
    const float cs = cosines[i];
    const float sn = cosines[pairs + i];
    p[0] = __fsub_rn(__fmul_rn(a, cs), __fmul_rn(b, sn));
    p[1] = __fadd_rn(__fmul_rn(a, sn), __fmul_rn(b, cs));
    ropeKey[2 * i] = p[0];
    ropeKey[2 * i + 1] = p[1];
  }
}

__device__ __forceinline__ float warp_dot(const float* a, const float* b, int n, int lane) {
  float s = 0.0f;
  for (int c = lane; c < n; c += WARP_SIZE) {
    s = __fmaf_rn(a[c], b[c], s);
  }
  return warp_sum(s);
}

// One block per (row i = blockIdx.x, head h = blockIdx.y): scores[t] = (qLatent(i,h) . c_t +
// qRope(i,h) . k_pe_t) * scale for t <= p_i (one warp per position), softmax, then out(i,h) =
// sum_t softmax_t c_t (one thread per latent column, positions in order).
// scores: (rows * heads, maxLength) scratch. Launch: block (ATTENTION_WARPS * 32), grid (rows, heads).
extern "C" __global__ void latent_attention(
    const float* qLatent, const float* query, int ropeOffset, int ropeRowStride, int ropeHeadStride, int heads,
    int rank, int ropeDim, float scale, const unsigned long long* latents, const unsigned long long* ropeKeys,
    const int* positions, float* scores, int maxLength, float* out) {
  const int i = blockIdx.x;
  const int h = blockIdx.y;
  const int lane = threadIdx.x % WARP_SIZE;
  const int warp = threadIdx.x / WARP_SIZE;
  const int length = positions[i] + 1;
  const float* ql = qLatent + ((size_t)i * heads + h) * rank;
  const float* qr = query + ropeOffset + (size_t)i * ropeRowStride + (size_t)h * ropeHeadStride;
  const float* c = (const float*)latents[i];
  const float* kpe = (const float*)ropeKeys[i];
  float* s = scores + ((size_t)i * heads + h) * maxLength;

  for (int t = warp; t < length; t += ATTENTION_WARPS) {
    const float dot = __fadd_rn(warp_dot(ql, c + (size_t)t * rank, rank, lane),
        warp_dot(qr, kpe + (size_t)t * ropeDim, ropeDim, lane));
    if (lane == 0) {
      s[t] = __fmul_rn(dot, scale);
    }
  }
  __syncthreads();

  // max and sum by one warp, positions lane-strided then the butterfly: a fixed order
  __shared__ float reduced[2];
  if (warp == 0) {
    float max = -INFINITY;
    for (int t = lane; t < length; t += WARP_SIZE) {
      max = fmaxf(max, s[t]);
    }
    max = warp_max(max);
    float sum = 0.0f;
    for (int t = lane; t < length; t += WARP_SIZE) {
      const float e = float_exp(__fsub_rn(s[t], max));
      s[t] = e;
      sum = __fadd_rn(sum, e);
    }
    sum = warp_sum(sum);
    if (lane == 0) {
      reduced[0] = sum;
    }
  }
  __syncthreads();
  const float sum = reduced[0];

  float* o = out + ((size_t)i * heads + h) * rank;
  for (int col = threadIdx.x; col < rank; col += blockDim.x) {
    float acc = 0.0f;
    for (int t = 0; t < length; t++) {
      acc = __fmaf_rn(__fdiv_rn(s[t], sum), c[(size_t)t * rank + col], acc);
    }
    o[col] = acc;
  }
}
