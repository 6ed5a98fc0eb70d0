#!/usr/bin/env bash
# Sets everything up and runs every test: CPU tests (GoogleTest via CTest), the CUDA
# targets' compilation (CI preset: a representative subset of kernel instantiations),
# GPU tests (reported as skipped when there is no GPU), the Python package's tests
# (CTest python_package) and analysis/'s pytest suite, with the .venv interpreter
# (scripts/env.sh puts it first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci
if [ -d analysis/tests ]; then
  python3 -m pytest -q analysis/tests
fi
