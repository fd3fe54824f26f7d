// e^x by the host's FloatExp (engine/.../kernel/FloatExp.java), operation for operation, each an
// explicit round-to-nearest intrinsic: the same bits as the CPU backends. x = n ln 2 + r, n =
// rint(x log2 e) from the fused multiply-add with 1.5 * 2^23, r by two fused multiply-adds with
// ln 2 in two parts, e^r by its Taylor polynomial of degree 7 (Horner, fused), times 2^n built in
// the exponent bits. Below -87.33 it is 0, above 88.37 infinity, NaN stays NaN.
#pragma once

__device__ __forceinline__ float float_exp(float x) {
  const float rounder = 12582912.0f;  // 1.5 * 2^23
  const float shifted = __fmaf_rn(x, 1.44269504f, rounder);
  const float n = __fsub_rn(shifted, rounder);
  float r = __fmaf_rn(n, -0.693145752f, x);
  r = __fmaf_rn(n, -1.42860677e-6f, r);
  float p = __fmaf_rn(1.0f / 5040, r, 1.0f / 720);
  p = __fmaf_rn(p, r, 1.0f / 120);
  p = __fmaf_rn(p, r, 1.0f / 24);
  p = __fmaf_rn(p, r, 1.0f / 6);
  p = __fmaf_rn(p, r, 0.5f);
  p = __fmaf_rn(p, r, 1.0f);
  p = __fmaf_rn(p, r, 1.0f);
  const float scale = __int_as_float((int)((unsigned)__float_as_int(shifted) << 23) + (127 << 23));
  const float e = __fmul_rn(p, scale);
  return x < -87.33f ? 0.0f : x > 88.37f ? INFINITY : e;
}
