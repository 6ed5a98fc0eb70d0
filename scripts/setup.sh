#!/usr/bin/env bash
# Installs what tilesim needs and is missing; does nothing when all is there (idempotent).
# Debian packages: compiler, CMake, Boost.Program_options, Eigen, nlohmann-json,
# GoogleTest, Google Benchmark, clang (its compiler-rt carries ASan, UBSan and libFuzzer:
# the asan preset and scripts/fuzz.sh), python3-venv. PyPI, into .venv: numpy, matplotlib,
# pytest (analysis/, python/), nanobind (the Python package).
# The CUDA toolkit (nvcc 13.0, cuBLAS) comes with the machine image; without nvcc the
# CPU parts still build and the CUDA targets are skipped with a warning.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

debs=(g++ cmake make libboost-program-options-dev libeigen3-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang python3 python3-pip
      python3-venv)
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

# Python: a project-local virtual environment (.venv, ignored by git), never the system
# interpreter. scripts/env.sh puts .venv/bin first on PATH, so `python3` in the scripts,
# in CTest and in `tilesim report` is this one.
venv="$root/.venv"
if [ ! -x "$venv/bin/python3" ]; then
  echo "setup: creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
py_missing=()
# nanobind: the Python package's extension (the ci preset builds it; pip install . fetches
# its own copy with scikit-build-core).
for mod in numpy matplotlib pytest nanobind; do
  "$venv/bin/python3" -c "import $mod" 2>/dev/null || py_missing+=("$mod")
done
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "setup: installing Python packages into .venv: ${py_missing[*]}"
  "$venv/bin/python3" -m pip install -q "${py_missing[@]}"
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
# The cuDNN frontend (header-only C++ over the cuDNN library the CUDA image has): the
# attention runner times cuDNN's fused SDPA in its own process through it. PyPI wheel,
# headers only, into .tools/ (nothing system-wide); without it the runner is built without
# the cuDNN reference and says so.
cfe_version=1.32.0
if { command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; } &&
   [ ! -f "$tools/cudnn_frontend/include/cudnn_frontend.h" ]; then
  echo "setup: installing the cuDNN frontend $cfe_version headers into $tools/cudnn_frontend"
  tmp="$(mktemp -d)"
  if python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "nvidia-cudnn-frontend==$cfe_version"; then
    python3 -m zipfile -e "$tmp"/*.whl "$tmp/x"
    mkdir -p "$tools/cudnn_frontend"
    cp -r "$tmp/x/include" "$tools/cudnn_frontend/"
  else
    echo "setup: warning: could not download the cuDNN frontend: the attention runner gets no cuDNN reference"
  fi
  rm -rf "$tmp"
fi
echo "setup: ok"
