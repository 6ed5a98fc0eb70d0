#!/usr/bin/env bash
# Installs what tilesim needs and is missing; does nothing when all is there (idempotent).
# Debian packages: compiler, CMake, Boost.Program_options, Eigen, nlohmann-json,
# GoogleTest, Google Benchmark. PyPI: numpy, matplotlib, pytest (for analysis/).
# The CUDA toolkit (nvcc 13.0, cuBLAS) comes with the machine image; without nvcc the
# CPU parts still build and the CUDA targets are skipped with a warning.
set -euo pipefail

debs=(g++ cmake make libboost-program-options-dev libeigen3-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pip)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py_missing=()
for mod in numpy matplotlib pytest; do
  python3 -c "import $mod" 2>/dev/null || py_missing+=("$mod")
done
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "setup: installing Python packages: ${py_missing[*]}"
  python3 -m pip install -q "${py_missing[@]}" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${py_missing[@]}"
fi

if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: warning: nvcc not found: CUDA targets (kernels, microbench) will not be built"
fi
# cuobjdump for the SASS check of the sm_100a microbenchmarks (CTest microbench_sm100_sass):
# the CUDA image here lacks it, so the PyPI wheel of the same tool goes into .tools/ (not
# on PATH, nothing system-wide).
tools="$(cd "$(dirname "$0")/.." && pwd)/.tools"
if { command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; } &&
   ! command -v cuobjdump >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/cuobjdump ] &&
   [ ! -x "$tools/cuda/bin/cuobjdump" ]; then
  echo "setup: installing cuobjdump and nvdisasm 13.2.51 into $tools/cuda/bin"
  tmp="$(mktemp -d)"
  if python3 -m pip download -q --no-deps -d "$tmp" nvidia-cuda-cuobjdump==13.2.51 nvidia-cuda-nvdisasm==13.2.51; then
    for w in "$tmp"/*.whl; do python3 -m zipfile -e "$w" "$tmp/x"; done
    mkdir -p "$tools/cuda/bin"
    cp "$tmp"/x/nvidia/cu13/bin/cuobjdump "$tmp"/x/nvidia/cu13/bin/nvdisasm "$tools/cuda/bin/"
    chmod +x "$tools/cuda/bin/"*
  else
    echo "setup: warning: could not download cuobjdump: the SASS check will be skipped"
  fi
  rm -rf "$tmp"
fi
echo "setup: ok"
