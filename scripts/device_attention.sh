#!/usr/bin/env bash
# Forward-attention device run. Runs on the GPU machine from the
# repository root over the carried build folder:
#   run(command="bash scripts/device_attention.sh", carry=["build/attn"])
# Steps: nvidia-smi; SASS sanity (HGMMA in every FA3 kernel); --check (odd shapes, fp32 and
# fp64 references); compute-sanitizer memcheck + racecheck on a small run of each base
# kernel; --sweep (timed); torch SDPA cuDNN / flash on the same shapes; a table last.
# Everything lands under $OUT (log.txt, check.json, sweep.json, torch_sdpa.json, sass.txt).
# Env: BUILD (default build/attn), OUT (default /tmp/attn_out), SKIP_SANITIZER=1, REPS (60),
# PASSES (4: interleaved timing passes), STOP_ON_CHECK_FAIL (1).
set -uo pipefail
BUILD=${BUILD:-build/attn}
OUT=${OUT:-/tmp/attn_out}
REPS=${REPS:-60}
PASSES=${PASSES:-4}
mkdir -p "$OUT"
LOG="$OUT/log.txt"
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(find "$BUILD" -name tilesim-attn-bench -type f -perm -u+x | head -1)
status=0
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }
if [[ -z "$BIN" ]]; then echo "no tilesim-attn-bench under $BUILD" | tee -a "$LOG"; exit 2; fi

step "nvidia-smi"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv 2>&1 | tee -a "$LOG"

step "SASS sanity: HGMMA per FA3 kernel (must be > 0), local memory (LDL/STL) per kernel"
cuobjdump -sass "$BIN" > "$OUT/sass_full.txt" 2>&1
awk '/Function :/{f=$3} /HGMMA/{h[f]++} /LDL|STL/{l[f]++} /MUFU.EX2/{m[f]++}
     END{for (k in m) printf "%-100s HGMMA %4d  MUFU.EX2 %4d  LDL/STL %d\n", k, h[k]+0, m[k], l[k]+0}' \
  "$OUT/sass_full.txt" | sort > "$OUT/sass.txt"
rm -f "$OUT/sass_full.txt"
cat "$OUT/sass.txt" | tee -a "$LOG"
if grep fa3_fwd_kernel "$OUT/sass.txt" | grep -q "HGMMA    0"; then echo "FAIL: an FA3 kernel has no HGMMA" | tee -a "$LOG"; status=1; fi

step "check (odd shapes, NaN-poisoned output, fp32 GPU + fp64 CPU references)"
timeout 120 "$BIN" --check --out "$OUT/check.json" 2>&1 | tee -a "$LOG"
if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
  status=1
  if [[ "${STOP_ON_CHECK_FAIL:-1}" == 1 ]]; then
    # Broken kernels: spend the device time on diagnosis (memcheck names the faulting
    # access), not on timing wrong results.
    for k in fa2_d128_bm128_bn64_s2 fa3_d128_bn128_s2_pp1_io1_e0_t0 fa3_d64_bn128_s2_pp1_io1_e0_t0; do
      step "diagnosis: compute-sanitizer memcheck $k"
      timeout 60 compute-sanitizer --tool memcheck --print-limit 5 "$BIN" --check --quick --kernel "$k" 2>&1 | tail -n 40 | tee -a "$LOG"
    done
    echo "device_attention.sh status=$status (stopped after failed check)" | tee -a "$LOG"
    exit $status
  fi
fi

if [[ "${SKIP_SANITIZER:-0}" != 1 ]]; then
  for k in fa2_d128_bm128_bn64_s2 fa3_d128_bn128_s2_pp1_io1_e0_t0 fa3_d64_bn128_s2_pp1_io1_e0_t0; do
    for tool in memcheck racecheck; do
      step "compute-sanitizer $tool $k"
      timeout 120 compute-sanitizer --tool "$tool" --error-exitcode 99 --print-limit 10 "$BIN" --check --quick --kernel "$k" 2>&1 | tail -n 12 | tee -a "$LOG"
      rc=${PIPESTATUS[0]}
      echo "sanitizer $tool $k rc=$rc" | tee -a "$LOG"
      [[ $rc -eq 0 ]] || status=1
    done
  done
fi

step "sweep (every compiled kernel, 4 shapes, median of $REPS in $PASSES interleaved passes)"
timeout 300 "$BIN" --sweep --reps "$REPS" --passes "$PASSES" --out "$OUT/sweep.json" 2>&1 | tee -a "$LOG"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

step "torch SDPA reference (cuDNN, flash)"
PYTHONUNBUFFERED=1 timeout 180 python3 "$HERE/kernels/attention/fwd/torch_sdpa_ref.py" --reps "$REPS" --passes "$PASSES" --out "$OUT/torch_sdpa.json" 2>&1 | tee -a "$LOG"

step "summary (TFLOP/s, same device call)"
python3 "$HERE/kernels/attention/fwd/summarize.py" "$OUT/sweep.json" "$OUT/torch_sdpa.json" 2>&1 | tee -a "$LOG"
echo "device_attention.sh status=$status" | tee -a "$LOG"
exit $status
