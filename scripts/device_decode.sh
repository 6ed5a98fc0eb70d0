#!/usr/bin/env bash
# Decode attention on the GPU machine, over a build folder carried from the dev machine:
#   nvidia-smi; tilesim-decode-bench --check; compute-sanitizer memcheck + racecheck on a
#   small run (--check --quick); --sweep; torch SDPA (cuDNN / flash) on the same shapes.
# All JSON and one log go under $OUT (at most 8 files come back); a short table is printed last.
# Usage (repo root): scripts/device_decode.sh [build_dir]   (default build/decode)
set -uo pipefail
BUILD=${1:-build/decode}
OUT=${OUT:-/tmp/decode_out}
mkdir -p "$OUT"
LOG="$OUT/decode_log.txt"
BIN=$(find "$BUILD" -name tilesim-decode-bench -type f -perm -u+x | head -1)
if [[ -z "$BIN" ]]; then
  echo "device_decode.sh: no tilesim-decode-bench under $BUILD" | tee -a "$LOG"
  exit 1
fi
DATE=$(date -u +%Y%m%d)
rc=0
step() { echo "=== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }

step nvidia-smi
nvidia-smi 2>&1 | tee -a "$LOG"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv 2>&1 | tee -a "$LOG"

step check
"$BIN" --check --out "$OUT/${DATE}_check.json" >>"$LOG" 2>&1 || { rc=1; echo "CHECK FAILED" | tee -a "$LOG"; }
tail -8 "$LOG"

if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    step "compute-sanitizer $tool"
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$BIN" --check --quick >>"$LOG" 2>&1
    s=$?
    echo "sanitizer $tool exit $s" | tee -a "$LOG"
    [[ $s -ne 0 ]] && rc=1
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard" "$LOG" | tail -2
  done
else
  echo "compute-sanitizer not found" | tee -a "$LOG"
  rc=1
fi

step sweep
"$BIN" --sweep --out "$OUT/${DATE}_sweep.json" >>"$LOG" 2>&1 || { rc=1; echo "SWEEP HAD FAILURES" | tee -a "$LOG"; }

step torch reference
PYTHONUNBUFFERED=1 python3 kernels/attention/decode/torch_decode_ref.py --out "$OUT/${DATE}_torch_ref.json" >>"$LOG" 2>&1 \
  || { rc=1; echo "TORCH REF FAILED" | tee -a "$LOG"; }

step summary
python3 kernels/attention/decode/summarize_decode.py "$OUT/${DATE}_sweep.json" "$OUT/${DATE}_torch_ref.json" 2>&1 | tee "$OUT/summary.txt"
echo "device_decode.sh exit $rc"
exit $rc
