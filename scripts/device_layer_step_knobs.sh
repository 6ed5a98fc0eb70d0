#!/usr/bin/env bash
# Second device script for kernels/layer_step: how the prefetch is launched. On four
# configurations (one where the GEMM leaves 4 SMs free, three where it fills every SM):
#   reserve8 / reserve16: the GEMM's persistent grid leaves 8 / 16 SMs to an 8 / 16-CTA prefetch
#   ctas8: an 8-CTA prefetch beside a GEMM on every SM
#   serial: the prefetch on the GEMM's stream just before it
# Usage (repo root): scripts/device_layer_step_knobs.sh <binary>; writes under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/layer_knobs}
mkdir -p "$OUT"
BIN=${1:?binary}
CFGS=(--config m=1024,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256
      --config m=2048,n=6144,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=256
      --config m=1536,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=320
      --config m=4096,n=4096,k=4096,batch=32,heads_q=32,heads_kv=8,seq_kv=384)
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,driver_version --format=csv > "$OUT/device.log"
run() {
  local tag=$1; shift
  "$BIN" --sweep --reps 20 "${CFGS[@]}" "$@" --out "$OUT/knobs_$tag.json" > "$OUT/knobs_$tag.log" 2>&1 || echo "$tag rc=$?"
}
run reserve8 --gemm-reserve-sms 8 --prefetch-ctas 8
run reserve16 --gemm-reserve-sms 16 --prefetch-ctas 16
run ctas8 --prefetch-ctas 8
run serial --prefetch-launch serial
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv >> "$OUT/device.log"
for t in reserve8 reserve16 ctas8 serial; do echo "== $t"; tail -4 "$OUT/knobs_$t.log" | cut -c1-44,52-; done
