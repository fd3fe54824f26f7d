#!/usr/bin/env bash
# Builds engine/target/gpu-check/: everything the GPU check needs on a machine that has a GPU but
# maybe no JDK, Maven or network. Run it here; carry the folder to the GPU machine; run run.sh there.
#
#   classes/ test-classes/   the engine and its tests (golden fixtures included), and the
#                            workbench's classes (the model generator and the GPU benchmark)
#   lib/                     Jackson, SLF4J with its simple binding, AssertJ, JCuda with only its
#                            driver library, the JUnit console launcher
#   jre/                     a Java runtime made with jlink: the modules the engine and these
#                            libraries use, jdk.incubator.vector included
#
# Left out on purpose: the tokenizer's DJL and Jinjava (no GPU test touches text), byte-buddy
# (AssertJ needs it only for soft assertions), Log4j (it needs java.desktop, 10 MB of runtime;
# slf4j-simple logs the lifecycle lines to stderr instead), and JCuda's NVRTC/PTX-compiler natives (24 MB; the
# backend loads committed PTX through the driver). The total must stay under the device tool's
# 64 MiB; the script fails if it does not.
#
# Usage: engine/src/main/cuda/gpu-check/prepare.sh   (extra Maven flags in MVN_FLAGS, e.g. -o)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../../../../.." && pwd)"
OUT="$ROOT/engine/target/gpu-check"
LIMIT_MIB=64
MODULES=java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported
# Runtime and test libraries the GPU tests and the benchmark load (artifact ids, any version).
LIBS=jackson-databind,jackson-annotations,jackson-core,slf4j-api,jcuda,jcuda-natives,assertj-core
SLF4J="$(sed -n 's:.*<slf4j.version>\(.*\)</slf4j.version>.*:\1:p' "$ROOT/pom.xml")"
# The console launcher of the JUnit Platform that matches the parent pom's JUnit 5 version.
JUNIT_PLATFORM="$(sed -n 's:.*<junit.version>5\.\([0-9.]*\)</junit.version>.*:1.\1:p' "$ROOT/pom.xml")"

cd "$ROOT"
rm -rf "$OUT"
mkdir -p "$OUT/lib"

mvn -B -q ${MVN_FLAGS:-} -pl engine,workbench -am test-compile
cp -r engine/target/classes "$OUT/classes"
cp -r workbench/target/classes/. "$OUT/classes/"
cp -r engine/target/test-classes "$OUT/test-classes"

mvn -B -q ${MVN_FLAGS:-} -pl engine dependency:copy-dependencies -DincludeScope=test \
  -DincludeArtifactIds="$LIBS" -DoutputDirectory="$OUT/lib"
for artifact in "org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM" "org.slf4j:slf4j-simple:$SLF4J"; do
  mvn -B -q ${MVN_FLAGS:-} dependency:copy -N -Dartifact="$artifact" -DoutputDirectory="$OUT/lib"
done

# JCuda's natives jar without the NVRTC and PTX compiler libraries: JCudaDriver needs only its own.
natives="$(ls "$OUT"/lib/jcuda-natives-*.jar)"
unpacked="$(mktemp -d)"
(cd "$unpacked" && unzip -q "$natives" 'lib/libJCudaDriver-*' 'META-INF/*')
rm "$natives"
jar --create --file "$natives" -C "$unpacked" .
rm -rf "$unpacked"

strip_symbols=()
if command -v objcopy >/dev/null; then
  strip_symbols=(--strip-native-debug-symbols "objcopy=$(command -v objcopy)")
fi
jlink --add-modules "$MODULES" --strip-debug "${strip_symbols[@]}" --no-header-files --no-man-pages \
  --compress=2 --output "$OUT/jre" 2> >(grep -v 'incubator modules' >&2)

# Smoke test with the bundled runtime, here: the CPU golden tests load the model through Jackson,
# the Vector API and SLF4J, which is what the GPU run needs besides CUDA.
"$(dirname "$0")/run.sh" --cpu-smoke-test

size_kib="$(du -sk "$OUT" | cut -f1)"
echo "gpu-check bundle: $OUT, $((size_kib / 1024)) MiB (limit ${LIMIT_MIB} MiB)"
if (( size_kib > LIMIT_MIB * 1024 )); then
  echo "The bundle exceeds ${LIMIT_MIB} MiB: leave out more (see the list at the top of this script)" >&2
  exit 1
fi
