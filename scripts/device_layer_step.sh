#!/usr/bin/env bash
# Device script for kernels/layer_step (tilesim-layer-bench): build, sanitizer on a small
# config, the timed sweep (twice, fresh inputs), ncu L2 hit rate of the decode kernel with
# and without the prefetch. Writes under $OUT; prints a short table last.
set -euo pipefail
OUT=${OUT:-/tmp/layer_out}
mkdir -p "$OUT"
# The binary is built on the dev machine (sm_90a, nvcc 13) and carried: the GPU machine has
# no Boost.Program_options for a full configure. Usage: scripts/device_layer_step.sh [binary]
BIN=${1:-build/lyr/kernels/layer_step/tilesim-layer-bench}
[[ -x "$BIN" ]] || { echo "device_layer_step.sh: no binary at $BIN"; exit 1; }
t0=$(date +%s)
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,driver_version --format=csv | tee "$OUT/device.log"
SMALL=m=256,n=512,k=512,batch=2,heads_q=8,heads_kv=2,seq_kv=1000
compute-sanitizer --tool memcheck --error-exitcode 9 $BIN --ncu --config $SMALL > "$OUT/sanitizer.log" 2>&1 \
  && echo "sanitizer memcheck: clean" || { echo "sanitizer memcheck: FAILED"; tail -30 "$OUT/sanitizer.log"; }
# run1, run2: the prefetch stream at high priority (fresh inputs each); run_lo: at low
# priority (the GEMM shuts the prefetch out when it fills every SM).
$BIN --sweep --reps 30 --out "$OUT/sweep_run1.json" > "$OUT/sweep_run1.log" 2>&1 || echo "run1 rc=$?"
$BIN --sweep --reps 30 --out "$OUT/sweep_run2.json" > "$OUT/sweep_run2.log" 2>&1 || echo "run2 rc=$?"
$BIN --sweep --reps 30 --prefetch-priority low --out "$OUT/sweep_run_lo.json" > "$OUT/sweep_run_lo.log" 2>&1 || echo "run_lo rc=$?"
NCU_M="lts__t_sector_hit_rate.pct,lts__t_sector_op_read_hit_rate.pct,dram__bytes_read.sum,lts__t_bytes.sum,gpu__time_duration.sum"
for cfg in ${NCU_CONFIGS:-m=4096,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=384 \
           m=1024,n=6144,k=4096,batch=16,heads_q=64,heads_kv=8,seq_kv=512}; do
  timeout 120 ncu --clock-control none --cache-control none --replay-mode application \
    -k regex:decode_splitkv --metrics $NCU_M --csv $BIN --ncu --config $cfg >> "$OUT/ncu.csv" 2>> "$OUT/ncu.err" \
    || echo "ncu $cfg rc=$?"
done
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv >> "$OUT/device.log"
echo "total: $(( $(date +%s) - t0 )) s"
echo "== ncu (decode kernel; launch order per config: step, step_pf_normal, step_pf_last)"
grep -E "decode_splitkv" "$OUT/ncu.csv" | awk -F'","' '{print $5" | "$(NF-2)" | "$NF}' | cut -c1-160 | head -40 || true
echo "== sweep run1"; tail -13 "$OUT/sweep_run1.log"
echo "== sweep run2"; tail -13 "$OUT/sweep_run2.log" | cut -c1-75,118-
echo "== sweep run_lo"; tail -13 "$OUT/sweep_run_lo.log" | cut -c1-75,118-
