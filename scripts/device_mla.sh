#!/usr/bin/env bash
# MLA decode on the GPU machine: nvidia-smi; tilesim-mla-bench --check; compute-sanitizer
# memcheck on --check --quick; the sweep (heads 16..128 x batch 1..64 x KV 1k..64k, both
# layouts); the held-out and training MLA shapes; torch SDPA on the absorbed form.
# The sweeps run only when the check passed. JSON and one log go under $OUT (at most 8
# files come back); a short table is printed last.
# Files: 2026-11-27_<gpu>_mla_<what>_<run>.json, <run> from MLA_RUN (default run2).
# Usage (repo root): [MLA_RUN=runN] scripts/device_mla.sh [binary_or_build_dir [fallback_binary]]
#   (default build/mla). With a fallback binary (an earlier, checked build): if the first
#   binary fails --check, the fallback is checked and, if it passes, measured instead; the
#   log says which binary produced the files.
set -uo pipefail
WHERE=${1:-build/mla}
FALLBACK=${2:-}
OUT=${OUT:-/tmp/mla_out}
mkdir -p "$OUT"
LOG="$OUT/mla_log.txt"
if [[ -f "$WHERE" ]]; then BIN=$WHERE; else BIN=$(find "$WHERE" -name tilesim-mla-bench -type f -perm -u+x 2>/dev/null | head -1); fi
if [[ -z "${BIN:-}" ]] || ! "$BIN" --list --json >/dev/null 2>&1; then
  echo "building tilesim-mla-bench (no runnable binary at $WHERE)" | tee -a "$LOG"
  cmake -S . -B build/mla -DTILESIM_CUDA=ON -DTILESIM_TESTS=OFF -DTILESIM_BENCHMARKS=OFF -DTILESIM_ALL_KERNELS=ON \
    -DCMAKE_BUILD_TYPE=Release >>"$LOG" 2>&1 && cmake --build build/mla --target tilesim-mla-bench -j16 >>"$LOG" 2>&1
  BIN=$(find build/mla -name tilesim-mla-bench -type f -perm -u+x | head -1)
  [[ -z "$BIN" ]] && { echo "device_mla.sh: build failed" | tee -a "$LOG"; tail -30 "$LOG"; exit 1; }
fi
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -oE 'H[0-9]+' | head -1 | tr 'H' 'h')
TAG=2026-11-27_${GPU:-gpu}_mla
# Which measurement set of the day the files belong to (their names end in _$RUN).
RUN=${MLA_RUN:-run2}
rc=0
step() { echo "=== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }

step nvidia-smi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv 2>&1 | tee -a "$LOG"

step check "$BIN"
timeout 240 "$BIN" --check --out "$OUT/${TAG}_check_${RUN}.json" >>"$LOG" 2>&1
crc=$?
[[ $crc -ne 0 ]] && { rc=1; echo "CHECK FAILED (exit $crc): $BIN" | tee -a "$LOG"; }
grep -E "^check|FAIL|error" "$LOG" | tail -25
if [[ $crc -ne 0 && -n "$FALLBACK" ]]; then
  mv "$OUT/${TAG}_check_${RUN}.json" "$OUT/${TAG}_check_failed_${RUN}.json" 2>/dev/null
  BIN=$FALLBACK
  step check fallback "$BIN"
  timeout 240 "$BIN" --check --out "$OUT/${TAG}_check_${RUN}.json" >>"$LOG" 2>&1
  crc=$?
  [[ $crc -ne 0 ]] && echo "FALLBACK CHECK FAILED (exit $crc)" | tee -a "$LOG"
  echo "MEASURING WITH THE FALLBACK BINARY $BIN" | tee -a "$LOG"
fi

step compute-sanitizer memcheck
timeout 240 compute-sanitizer --tool memcheck --error-exitcode 3 "$BIN" --check --quick >>"$LOG" 2>&1
s=$?
echo "sanitizer memcheck exit $s" | tee -a "$LOG"
[[ $s -ne 0 ]] && rc=1
grep -E "ERROR SUMMARY" "$LOG" | tail -1

if [[ $crc -eq 0 ]]; then
  step sweep
  timeout 300 "$BIN" --sweep --out "$OUT/${TAG}_sweep_${RUN}.json" >>"$LOG" 2>&1 || { rc=1; echo "SWEEP HAD FAILURES" | tee -a "$LOG"; }
  step held-out shapes
  timeout 120 "$BIN" --sweep --shapes-file data/heldout/shapes.json --out "$OUT/${TAG}_heldout_${RUN}.json" >>"$LOG" 2>&1 \
    || { rc=1; echo "HELD-OUT SWEEP HAD FAILURES" | tee -a "$LOG"; }
  step training shapes
  timeout 120 "$BIN" --sweep --shapes-file data/train/shapes_mla_2026-11-27.json --out "$OUT/${TAG}_train_${RUN}.json" >>"$LOG" 2>&1 \
    || { rc=1; echo "TRAINING SWEEP HAD FAILURES" | tee -a "$LOG"; }
  step torch reference
  PYTHONUNBUFFERED=1 timeout 200 python3 kernels/attention/mla/torch_mla_ref.py --out "$OUT/${TAG}_torch_sdpa_${RUN}.json" >>"$LOG" 2>&1 \
    || { rc=1; echo "TORCH REF FAILED" | tee -a "$LOG"; }
  step summary
  python3 kernels/attention/mla/summarize_mla.py "$OUT/${TAG}_sweep_${RUN}.json" "$OUT/${TAG}_heldout_${RUN}.json" \
    "$OUT/${TAG}_train_${RUN}.json" --torch "$OUT/${TAG}_torch_sdpa_${RUN}.json" >"$OUT/summary.txt" 2>&1
  grep -E "torch_sdpa|default|efficient|cudnn" "$LOG" | tail -30 >>"$OUT/summary.txt"
  cat "$OUT/summary.txt"
fi
echo "device_mla.sh exit $rc"
exit $rc
