#!/usr/bin/env bash
# Device script: why the in-GEMM prefetch keeps nothing (tilesim-layer-bench --prefetch
# in_gemm). On a 128-CTA and a full-grid GEMM (KV 33.6 MB), each a separate sweep: the default
# (issued at once / paced over the first half), evict_normal instead of evict_last, paced into
# the GEMM's second half and last quarter, and the side kernel serial before the GEMM (the
# control: lines issued before the GEMM by another kernel). Usage: <script> <binary>
set -euo pipefail
OUT=${OUT:-/tmp/layer_out}
mkdir -p "$OUT"
BIN=${1:?usage: device_layer_step_ingemm_diag.sh <tilesim-layer-bench binary>}
t0=$(date +%s)
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv | tee "$OUT/diag_device.log"
CFG="--config m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256 --config m=2048,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256"
run() { local name=$1; shift; $BIN --sweep --reps 20 $CFG "$@" --out "$OUT/diag_$name.json" > "$OUT/diag_$name.log" 2>&1 || echo "$name rc=$?"; }
run default --prefetch in_gemm
run normal --prefetch in_gemm --in-gemm-policy normal
run late50 --prefetch in_gemm --pace-delay-share 0.5 --pace-share 0.3
run late75 --prefetch in_gemm --pace-delay-share 0.75 --pace-share 0.15
run serial --prefetch-launch serial
echo "total: $(( $(date +%s) - t0 )) s"
cd "$OUT" && tar czf diag.tgz diag_*.json && rm diag_*.json
for f in diag_default diag_normal diag_late50 diag_late75 diag_serial; do echo "== $f"; tail -2 $f.log | cut -c1-20,43-; done
