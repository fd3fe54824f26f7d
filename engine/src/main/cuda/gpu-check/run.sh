#!/usr/bin/env bash
# The GPU check, on the machine with the GPU, from the bundle prepare.sh built: runs the CUDA
# tests (kernels against the scalar reference, golden tests, determinism) and the decode benchmark
# on the small model, which it generates first (about 1.6 GB, into MODEL_DIR).
#
# Usage: engine/src/main/cuda/gpu-check/run.sh
#   MODEL_DIR   where the small model is generated or found (default /tmp/moe-flink-small-bf16)
#   STEPS       decode steps per batch size (default 32)
#   OUT         if set, JUnit's XML reports are written to $OUT/junit
# Exit status: the tests' (0 also where no CUDA device is present: every GPU test is skipped,
# and the benchmark says "no CUDA device").
#
# run.sh --cpu-smoke-test runs the CPU golden tests instead (prepare.sh uses it to check the bundle).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../../../../.." && pwd)"
B="$ROOT/engine/target/gpu-check"
if [[ ! -x "$B/jre/bin/java" ]]; then
  echo "No bundle at $B: run engine/src/main/cuda/gpu-check/prepare.sh first (and carry engine/target/gpu-check)" >&2
  exit 2
fi
JAVA=("$B/jre/bin/java" --add-modules jdk.incubator.vector -Xss4m -Xmx16g)
CP="$B/classes:$B/test-classes:$(ls "$B"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
LAUNCHER="$(ls "$B"/lib/junit-platform-console-standalone-*.jar)"
reports=()
if [[ -n "${OUT:-}" ]]; then
  reports=(--reports-dir "$OUT/junit")
fi

junit() {
  "${JAVA[@]}" -jar "$LAUNCHER" execute --class-path "$CP" --disable-banner --details=summary --disable-ansi-colors \
    --details-theme=ascii "${reports[@]}" "$@" 2> >(grep -v 'incubator modules' >&2)
}

if [[ "${1:-}" == "--cpu-smoke-test" ]]; then
  junit --select-class io.moeflink.engine.model.GoldenTest
  exit
fi

echo "== GPU tests"
status=0
junit --details=tree --include-tag gpu --select-package io.moeflink.engine.kernel.cuda \
  --select-class io.moeflink.engine.model.GoldenCudaTest || status=$?

echo "== decode benchmark, small model"
"${JAVA[@]}" -cp "$CP" io.moeflink.workbench.bench.CudaDecodeBenchmark \
  "${MODEL_DIR:-/tmp/moe-flink-small-bf16}" "${STEPS:-32}" 2> >(grep -v 'incubator modules' >&2)
exit "$status"
