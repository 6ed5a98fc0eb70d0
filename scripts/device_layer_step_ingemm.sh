#!/usr/bin/env bash
# Device script for the in-GEMM KV prefetch (tilesim-layer-bench --prefetch in_gemm): sanitizer
# on a small config, the timed sweep (in-GEMM unpaced / paced, side kernel on the same
# machine), ncu L2 hit rate of the decode on two configurations. Writes under $OUT; prints a
# short table last. Usage: scripts/device_layer_step_ingemm.sh <binary built on the dev machine>
set -euo pipefail
OUT=${OUT:-/tmp/layer_out}
mkdir -p "$OUT"
BIN=${1:?usage: device_layer_step_ingemm.sh <tilesim-layer-bench binary>}
[[ -x "$BIN" ]] || { echo "device_layer_step_ingemm.sh: no binary at $BIN"; exit 1; }
t0=$(date +%s)
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,driver_version --format=csv | tee "$OUT/device.log"
SMALL=m=256,n=512,k=512,batch=2,heads_q=8,heads_kv=2,seq_kv=1000
compute-sanitizer --tool memcheck --error-exitcode 9 $BIN --ncu --prefetch in_gemm --config $SMALL > "$OUT/sanitizer.log" 2>&1 \
  && echo "sanitizer memcheck: clean" || { echo "sanitizer memcheck: FAILED"; tail -30 "$OUT/sanitizer.log"; }
$BIN --sweep --prefetch in_gemm --reps 30 --out "$OUT/ingemm_run1.json" > "$OUT/ingemm_run1.log" 2>&1 || echo "run1 rc=$?"
echo "sweep done: $(( $(date +%s) - t0 )) s"
# ncu: decode launches per config in this order: step, side evict_normal, side evict_last,
# in-GEMM, in-GEMM paced (the --ncu launch sequences, run one after the other).
NCU_M="lts__t_sector_hit_rate.pct,lts__t_sector_op_read_hit_rate.pct,dram__bytes_read.sum,gpu__time_duration.sum"
for cfg in ${NCU_CONFIGS:-m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256 \
           m=2048,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256}; do
  timeout 100 ncu --clock-control none --cache-control none --replay-mode application \
    -k regex:decode_splitkv --metrics $NCU_M --csv $BIN --ncu --prefetch in_gemm --config $cfg >> "$OUT/ncu.csv" 2>> "$OUT/ncu.err" \
    || echo "ncu $cfg rc=$?"
done
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv >> "$OUT/device.log"
echo "total: $(( $(date +%s) - t0 )) s"
echo "== ncu (decode; per config: step, side_normal, side_last, in_gemm, in_gemm_paced)"
grep -E "decode_splitkv" "$OUT/ncu.csv" | awk -F'","' '{print $(NF-2)" | "$NF}' | cut -c1-120 | head -40 || true
echo "== sweep"; tail -14 "$OUT/ingemm_run1.log" | cut -c1-60,100-
