#!/usr/bin/env bash
# The held-out measurements (data/heldout/shapes.json) on the GPU machine, one step per
# call so that each call stays inside the device tool's 10-minute command limit:
#   bash scripts/device_heldout.sh BUILD sweeps   every compiled kernel config of GEMM,
#                                                 attention forward and decode on every
#                                                 held-out shape (checked, then timed with
#                                                 NVML clock samples per pass), cuBLAS in
#                                                 the GEMM runner, torch SDPA (cuDNN, flash)
#   bash scripts/device_heldout.sh BUILD ncu      hardware counters (ncu, --clock-control
#                                                 none: the clock the kernel really runs at)
#                                                 for every attention config and the best and
#                                                 worst $PER_SIDE (3) GEMM configs of each
#                                                 held-out shape, picked from the sweeps' JSON
#                                                 $SWEEPS="ATTENTION.json GEMM.json"
#                                                 (TAG=train with training sweeps: the
#                                                 counters the clock model is fitted on)
# BUILD holds tilesim-{gemm,attn,decode}-bench (carried from the dev machine). Outputs
# land in $OUT (the device tool brings back at most 8 files: each step packs a tarball).
set -uo pipefail
B=${1:?build dir}
STEP=${2:?sweeps or ncu}
OUT=${OUT:-/tmp/heldout_out}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHAPES="${SHAPES:-$HERE/data/heldout/shapes.json}"   # or a training-shapes file (data/train/)
TAG="${TAG:-heldout}"
mkdir -p "$OUT"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
done
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
DAY=$(date -u +%Y-%m-%d)
LOG="$OUT/${STEP}_log.txt"
status=0
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }
bin() { find "$B" -name "$1" -type f -perm -u+x | head -1; }
ATTN=$(bin tilesim-attn-bench) GEMM=$(bin tilesim-gemm-bench) DEC=$(bin tilesim-decode-bench)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv | tee -a "$LOG"

if [[ $STEP == sweeps ]]; then
  D="$OUT/${DAY}_${GPU}_${TAG}"
  mkdir -p "$D"
  step "attention: every compiled kernel on the held-out shapes"
  timeout 240 "$ATTN" --sweep --shapes-file "$SHAPES" --reps 30 --passes 3 --out "$D/attention_sweep.json" 2>&1 | tail -n 400 >> "$LOG"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  grep -c " ok" "$LOG" | sed 's/^/attention rows ok: /'
  step "attention: torch SDPA (cuDNN, flash) on the held-out shapes"
  PYTHONUNBUFFERED=1 timeout 150 python3 "$HERE/kernels/attention/fwd/torch_sdpa_ref.py" --shapes-file "$SHAPES" \
    --reps 30 --passes 3 --out "$D/attention_torch_sdpa.json" 2>&1 | tee -a "$LOG"
  step "gemm: every compiled config + cuBLAS on the held-out shapes"
  timeout 240 "$GEMM" --sweep --shapes-file "$SHAPES" --reps 30 --final-rounds 0 --out "$D/gemm_sweep.json" 2>&1 | tail -n 60 >> "$LOG"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  step "decode: every compiled tile on the held-out shapes"
  timeout 200 "$DEC" --sweep --shapes-file "$SHAPES" --reps 30 --out "$D/decode_sweep.json" 2>&1 | tail -n 40 >> "$LOG"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  cp "$LOG" "$D/"
  tar -C "$OUT" -czf "$OUT/${DAY}_${GPU}_${TAG}.tgz" "$(basename "$D")"
  python3 "$HERE/scripts/heldout_summary.py" "$D" 2>&1 | tail -n 60
fi

if [[ $STEP == ncu ]]; then
  SW=${SWEEPS:?SWEEPS="attention_sweep.json gemm_sweep.json" of this GPU}
  D="$OUT/${DAY}_${GPU}_${TAG}_ncu"
  mkdir -p "$D"
  # Sections that hold per-pipe utilization, issue slots, eligible warps, stall reasons
  # and the SM frequency; --clock-control none keeps the clock the card chooses.
  NCU="ncu --clock-control none --section SpeedOfLight --section ComputeWorkloadAnalysis --section SchedulerStats \
       --section WarpStateStats --section Occupancy --csv --page raw"
  # One process per shape: the runner's --check launches each selected config once, in
  # the order of its JSON output, so the i-th profiled kernel is the i-th run there.
  python3 "$HERE/scripts/heldout_pick_ncu.py" $SW --per-side "${PER_SIDE:-3}" > "$D/picks.txt"
  step "ncu on $(wc -l < "$D/picks.txt") (family, shape) groups"
  i=0
  while read -r fam shape kernels; do
    i=$((i + 1))
    # Stay inside the device tool's 10-minute command limit: what is left is reported.
    if (( SECONDS > ${NCU_DEADLINE_S:-470} )); then echo "$i $fam $shape skipped: deadline" | tee -a "$LOG"; continue; fi
    case $fam in
      # --kernel fa: our FA2/FA3 configs only (not the runner's in-process cuDNN reference)
      attention) cmd=("$ATTN" --check --shape "$shape" --kernel fa --out "$D/run_${i}.json"); kre="regex:fa[23]_fwd_kernel" ;;
      gemm) cmd=("$GEMM" --check --shape "$shape" --filter "$kernels" --out "$D/run_${i}.json"); kre="regex:gemm_sm(90_ws|80_mma)_kernel" ;;
      *) continue ;;
    esac
    timeout 120 $NCU -k "$kre" "${cmd[@]}" > "$D/ncu_${i}.csv" 2> "$D/ncu_${i}.err"
    echo "$i $fam $shape rc=$? ($(date -u +%H:%M:%S))" | tee -a "$LOG"
  done < "$D/picks.txt"
  python3 "$HERE/scripts/ncu_to_json.py" "$D" > "$D/ncu.json" 2>> "$LOG" || status=1
  rm -f "$D"/ncu_*.csv "$D"/run_*.json
  find "$D" -name 'ncu_*.err' -empty -delete
  cp "$LOG" "$D/"
  tar -C "$OUT" -czf "$OUT/${DAY}_${GPU}_${TAG}_ncu.tgz" "$(basename "$D")"
  python3 -c "import json,sys; d=json.load(open('$D/ncu.json')); print(len(d['runs']), 'profiled runs')"
fi
echo "device_heldout.sh $STEP status=$status"
exit $status
