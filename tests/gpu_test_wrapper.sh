#!/usr/bin/env bash
# Runs a GPU test binary if a CUDA GPU is present; otherwise says so and exits 77,
# which CTest (SKIP_RETURN_CODE 77) reports as "skipped", never as passed.
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "skipped: no GPU (nvidia-smi finds no device) for: $*"
  exit 77
fi
exec "$@"
