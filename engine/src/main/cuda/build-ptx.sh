#!/usr/bin/env bash
# Regenerates the committed PTX next to each CUDA source of the engine, so that users need no CUDA
# toolkit: the driver compiles PTX for the GPU at hand when CudaBackend loads it.
#
# Minimum architecture: compute_80 (Ampere: A100, A10, RTX 30xx). The PTX JIT-compiles on every
# later GPU, Hopper (H100/H200, sm_90) included. PTX ISA: lowered to 8.0, the version CUDA 12.0
# drivers read (JCuda 12.0.0 needs a CUDA 12 driver anyway); newer nvcc write a newer .version
# header for the same instructions, and ptxas checks below that the lowered file is still valid.
#
# Flags that the kernels' determinism and FP8 decoding rely on:
#   -ftz=false   keep F32 subnormals: FP8 E4M3 subnormal codes decode through them;
#   -fmad=false  never contract a separate multiply and add (the sources use explicit intrinsics
#                anyway, this keeps any future plain arithmetic from being fused differently).
#
# Usage: engine/src/main/cuda/build-ptx.sh   (needs nvcc and ptxas on PATH)
set -euo pipefail

MIN_ARCH=80
PTX_ISA=8.0
DIR="$(cd "$(dirname "$0")/../resources/io/moeflink/engine/kernel/cuda" && pwd)"

command -v nvcc >/dev/null || { echo "nvcc not found: install the CUDA toolkit or put it on PATH" >&2; exit 1; }

for cu in "$DIR"/*.cu; do
  ptx="${cu%.cu}.ptx"
  tmp="$(mktemp)"
  nvcc -ptx -arch=compute_${MIN_ARCH} -ftz=false -fmad=false -prec-div=true -prec-sqrt=true \
    -o "$tmp" "$cu"
  sed -E "s/^\.version [0-9]+\.[0-9]+$/.version ${PTX_ISA}/" "$tmp" > "$ptx"
  rm -f "$tmp"
  for arch in sm_${MIN_ARCH} sm_90; do
    ptxas -arch="$arch" "$ptx" -o /dev/null
  done
  if grep -q '\.ftz' "$ptx"; then
    echo "$ptx flushes subnormals (.ftz): FP8 subnormal weights would read as 0" >&2
    exit 1
  fi
  echo "$(basename "$ptx"): $(grep -c '^\.visible \.entry' "$ptx") kernels, PTX ISA ${PTX_ISA}, compute_${MIN_ARCH}"
done
