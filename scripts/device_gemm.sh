#!/usr/bin/env bash
# GEMM kernels on the GPU machine, in one call: environment and clocks, SASS sanity
# (HGMMA present in every sm90 kernel, no local-memory spills), --check on small odd
# shapes, compute-sanitizer memcheck on one small run of each kernel, then the sweep.
# Everything lands under $OUT; a short table is printed last.
#
# usage (repository root on the device): bash scripts/device_gemm.sh [build-dir]
#   build-dir: a build made on the dev machine and carried (default build/gemm)
set -u -o pipefail
BUILD_DIR=${1:-build/gemm}
OUT=${OUT:-/tmp/tilesim_gemm_out}
mkdir -p "$OUT"
BIN=$(find "$BUILD_DIR" -type f -name tilesim-gemm-bench | head -n 1)
if [[ -z "$BIN" ]]; then
  echo "device_gemm.sh: no tilesim-gemm-bench under $BUILD_DIR" >&2
  exit 2
fi
# cuBLAS is linked dynamically (libcublas.so.13 from the CUDA toolkit on the machine).
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
done

# Bounded steps: a deadlocked kernel must not eat the device call.
CHECK_TIMEOUT_S=${CHECK_TIMEOUT_S:-120}
SANITIZER_TIMEOUT_S=${SANITIZER_TIMEOUT_S:-180}
SWEEP_TIMEOUT_S=${SWEEP_TIMEOUT_S:-300}

{
  date -u
  nvidia-smi
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv
  ldd "$BIN" | grep -i cublas
} > "$OUT/env.txt" 2>&1
"$BIN" --list >> "$OUT/env.txt" 2>&1 || { echo "binary does not start:"; cat "$OUT/env.txt"; exit 3; }

# SASS: per-function HGMMA (Hopper wgmma) and LDL/STL (local memory = spills) counts.
cuobjdump --dump-sass "$BIN" > /tmp/gemm.sass 2>&1
{
  echo "HGMMA total: $(grep -c HGMMA /tmp/gemm.sass)"
  awk '/Function :/{f=$3} /HGMMA/{h[f]++} /HMMA/{m[f]++} /LDL|STL/{l[f]++} /Function :/{all[f]=1}
       END{for (k in all) printf "%6d HGMMA %6d HMMA %4d LDL/STL  %s\n", h[k], m[k], l[k], k}' /tmp/gemm.sass | sort -k7
} > "$OUT/sass_summary.txt"

echo "== check"
timeout "$CHECK_TIMEOUT_S" "$BIN" --check --out "$OUT/check.json" > "$OUT/check.log" 2>&1
check_rc=$?
tail -n 3 "$OUT/check.log"

echo "== compute-sanitizer memcheck (one small run of each kernel)"
san_rc=-1
if [[ $check_rc -ne 124 ]]; then
  timeout "$SANITIZER_TIMEOUT_S" compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$BIN" --check --shapes 333x520x200 \
    --filter sm90_ws_128x256x64_s4_c2_cl2x1_r8,sm90_ws_128x128x64_s6_c1_cl1x1_r8,sm90_ws_128x128x64_s6_c2_cl1x1_r8_sk2,sm80_mma_128x128x32_s4_w2x2 \
    > "$OUT/sanitizer.log" 2>&1
  san_rc=$?
  tail -n 4 "$OUT/sanitizer.log"
fi

echo "== sweep"
sweep_rc=-1
if [[ $check_rc -ne 124 ]]; then
  timeout "$SWEEP_TIMEOUT_S" "$BIN" --sweep --out "$OUT/sweep.json" > "$OUT/sweep.log" 2>&1
  sweep_rc=$?
fi

echo "== SASS"
cat "$OUT/sass_summary.txt"
echo "== clocks now"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv,noheader
echo "== result: check rc=$check_rc sanitizer rc=$san_rc sweep rc=$sweep_rc"
grep -A200 "^shape " "$OUT/sweep.log" 2>/dev/null || tail -n 30 "$OUT/sweep.log" 2>/dev/null
[[ $check_rc -eq 0 && $san_rc -eq 0 && $sweep_rc -eq 0 ]]
