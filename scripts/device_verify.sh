#!/usr/bin/env bash
# Re-verification of every kernel family on the GPU machine after a change to the shared
# GPU layer (kernels/common): per runner
#   1. --check                      every compiled kernel against its reference
#   2. compute-sanitizer memcheck + racecheck on a small --check (--quick) of a few
#      representative kernels (TMA + wgmma + clusters, cp.async + mma.sync, paged decode)
#   3. a short timing sweep on one committed sweep shape per family, comparable with the
#      committed runs in data/measurements/<family>/ (same flags): the table puts each
#      kernel's new median next to the committed one
# and a short table last. Usage: bash scripts/device_verify.sh BUILD
# BUILD holds tilesim-{gemm,attn,decode}-bench (carried from the dev machine). Everything
# lands in $OUT as one tarball plus the log and the table (3 files: the device tool brings
# back at most 8).
set -uo pipefail
B=${1:?build dir holding the runners}
OUT=${OUT:-/tmp/verify_out}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
done
command -v compute-sanitizer > /dev/null || export PATH=/usr/local/cuda/bin:$PATH
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
DAY=$(date -u +%Y-%m-%d)
D="$OUT/${DAY}_${GPU}_verify"
mkdir -p "$D"
LOG="$D/log.txt"
TABLE="$OUT/table.txt"
: > "$TABLE"
bin() { find "$B" -name "$1" -type f -perm -u+x | head -1; }
GEMM=$(bin tilesim-gemm-bench) ATTN=$(bin tilesim-attn-bench) DEC=$(bin tilesim-decode-bench)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv | tee -a "$LOG"
status=0
# row FAMILY STEP RC DETAIL: one table line per step; rc 124 = timed out.
row() {
  local verdict=ok
  [[ $3 -ne 0 ]] && verdict=FAIL && status=1
  [[ $3 -eq 124 ]] && verdict=TIMEOUT
  printf '%-10s %-22s %-8s %s\n' "$1" "$2" "$verdict" "$4" >> "$TABLE"
}
# run FAMILY STEP TIMEOUT_S CMD...: logs the command and its output, adds a table row.
run() {
  local fam=$1 st=$2 t=$3
  shift 3
  echo "=== $fam $st ($(date -u +%H:%M:%S)): $*" | tee -a "$LOG"
  timeout "$t" "$@" >> "$LOG" 2>&1
  local rc=$?
  row "$fam" "$st" "$rc" "$(tail -n 1 "$LOG" | cut -c1-70)"
}
sanitize() {  # FAMILY "TOOL [LABEL]" TIMEOUT_S CMD...: the first word of the second argument is the tool
  local fam=$1 step=$2 t=$3
  shift 3
  run "$fam" "$step" "$t" compute-sanitizer --tool "${step%% *}" --error-exitcode 9 "$@"
}

if [[ -n $GEMM ]]; then
  run gemm check 240 "$GEMM" --check --out "$D/gemm_check.json"
  # One wgmma kernel with 2-CTA multicast, one single-consumer, one split-K, the mma.sync one.
  GF=sm90_ws_128x256x64_s4_c2_cl2x1_r8,sm90_ws_128x128x64_s6_c1_cl1x1_r8,sm90_ws_128x128x64_s6_c2_cl1x1_r8_sk2,sm80_mma_128x128x32_s4_w2x2
  sanitize gemm memcheck 240 "$GEMM" --check --shapes 333x520x200 --filter "$GF"
  sanitize gemm racecheck 300 "$GEMM" --check --shapes 333x520x200 --filter "$GF"
  # The committed sweep's first shape (data/measurements/gemm/*_sweep.json), same flags.
  run gemm sweep 240 "$GEMM" --sweep --shapes 8192x8192x8192 --reps 30 --final-rounds 0 --out "$D/gemm_sweep.json"
else
  row gemm runner 1 "tilesim-gemm-bench not found under $B"
fi

if [[ -n $ATTN ]]; then
  run attention check 240 "$ATTN" --check --out "$D/attention_check.json"
  for k in fa3_d128_bn128_s2_pp1_io1_e0_t0 fa2_d64_bm128_bn128_s2; do  # the TMA/wgmma/setmaxnreg path and the cp.async/mma.sync path
    sanitize attention "memcheck $k" 240 "$ATTN" --check --quick --kernel "$k"
    sanitize attention "racecheck $k" 300 "$ATTN" --check --quick --kernel "$k"
  done
  run attention sweep 240 "$ATTN" --sweep --shape batch=4,heads_q=16,seq_q=4096,head_dim=128 \
    --reps 30 --passes 3 --out "$D/attention_sweep.json"
else
  row attention runner 1 "tilesim-attn-bench not found under $B"
fi

if [[ -n $DEC ]]; then
  run decode check 240 "$DEC" --check --out "$D/decode_check.json"
  sanitize decode memcheck 240 "$DEC" --check --quick
  sanitize decode racecheck 300 "$DEC" --check --quick
  run decode sweep 240 "$DEC" --sweep --shape batch=8,heads_q=32,heads_kv=8,seq_kv=8192,head_dim=128 \
    --reps 30 --out "$D/decode_sweep.json"
else
  row decode runner 1 "tilesim-decode-bench not found under $B"
fi

# Median time per kernel of each sweep next to the committed run of the same shape.
python3 - "$D" "$HERE/data/measurements" >> "$TABLE" 2>&1 <<'PY'
import glob, json, os, sys
new_dir, committed = sys.argv[1], sys.argv[2]
def runs(path):
    try:
        doc = json.load(open(path))
    except Exception:
        return {}
    def name(r):
        tile = ",".join(f"{k}={v}" for k, v in sorted(r.get("tile", {}).items()))
        return r.get("kernel") or f'{r.get("schedule") or r.get("impl")} {tile}'
    return {(name(r), json.dumps(r["problem"], sort_keys=True)): r["median_ms"]
            for r in doc.get("runs", []) if "median_ms" in r}
print("\nkernel                                   new_ms  committed_ms  ratio")
for fam in ("gemm", "attention", "decode"):
    new = runs(os.path.join(new_dir, f"{fam}_sweep.json"))
    old = {}
    for f in sorted(glob.glob(os.path.join(committed, fam, "*sweep*.json"))):
        old.update(runs(f))
    for key, ms in sorted(new.items()):
        ref = old.get(key)
        ratio = f"{ms / ref:5.2f}" if ref else "  -"
        print(f"{key[0][:40]:40s} {ms:8.3f} {ref if ref else float('nan'):12.3f}  {ratio}")
PY

tar -C "$OUT" -czf "$OUT/${DAY}_${GPU}_verify.tgz" "$(basename "$D")"
cp "$LOG" "$OUT/log.txt"
echo
echo "=== verify table ($GPU)"
cat "$TABLE"
exit $status
