# Sourced by the scripts: puts nvcc on PATH where the toolkit lives in /usr/local/cuda.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
# The project's Python (.venv, made by scripts/setup.sh) comes first on PATH: `python3`
# in the scripts, CTest and `tilesim report` is the venv's, never the system interpreter.
tilesim_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$tilesim_root/.venv/bin/python3" ]; then
  export VIRTUAL_ENV="$tilesim_root/.venv"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
fi
