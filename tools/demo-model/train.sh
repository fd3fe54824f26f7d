#!/usr/bin/env bash
# Trains the demo model (tools/demo-model/README.md): installs what it needs from Debian, then
# runs train.py from the repository root. Arguments go to train.py (e.g. --steps 1000 --out models/demo).
set -euo pipefail
cd "$(dirname "$0")/../.."
packages=(python3-torch python3-numpy python3-matplotlib libopenblas0-pthread wordnet-base r-cran-janeaustenr)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing ${missing[*]}"
  ${SUDO:-$( ((EUID)) && echo sudo)} apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian's torch multiplies through the default BLAS; the pthread OpenBLAS is ~20x faster here.
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
exec /usr/bin/python3 tools/demo-model/train.py "$@"
