#!/usr/bin/env bash
# Hardware counters of the fp8 GEMM on the held-out fp8 shapes (data/heldout/shapes.json,
# "gemm_fp8"): ncu --clock-control none with the held-out step's sections (as
# device_heldout.sh ncu) on every compiled fp8 config, one runner process per shape (its
# --check launches each config once, in the order of its JSON), written by ncu_to_json.py
# so that `tilesim validate` compares them (clock, tensor, issue).
# usage (repository root on the device): bash scripts/device_fp8_heldout_ncu.sh GEMM_BENCH
#   FILTER=a,b: only the configs whose names contain one of these (the runner's --filter)
# Writes $OUT/<day>_<gpu>_heldout_fp8_ncu/ncu.json (packed after every shape) and a log.
set -uo pipefail
BIN=${1:?tilesim-gemm-bench binary}
OUT=${OUT:-/tmp/fp8_ncu_out}
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -oiE 'h100|h200|h20|b200' | tr 'A-Z' 'a-z')
D="$OUT/$(date -u +%F)_${GPU:-gpu}_heldout_fp8_ncu"
mkdir -p "$D"
LOG="$D/log.txt"
# env.txt and ncu_version.txt: the device line and ncu version ncu_to_json.py records.
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv | tee "$D/env.txt" "$LOG"
ncu --version > "$D/ncu_version.txt" 2>&1
NCU="ncu --clock-control none --section SpeedOfLight --section ComputeWorkloadAnalysis --section SchedulerStats \
     --section WarpStateStats --section Occupancy --csv --page raw"
SHAPES=$(python3 -c "
import json
for s in json.load(open('data/heldout/shapes.json'))['gemm_fp8']:
    print('m=%d,n=%d,k=%d' % (s['m'], s['n'], s['k']))")
i=0
for shape in $SHAPES; do
  i=$((i + 1))
  if (( SECONDS > ${NCU_DEADLINE_S:-480} )); then echo "$i $shape skipped: deadline" | tee -a "$LOG"; continue; fi
  timeout 150 $NCU -k "regex:gemm_sm90_fp8_kernel" "$BIN" --check --dtype fp8 --shape "$shape" \
    ${FILTER:+--filter "$FILTER"} --out "$D/run_${i}.json" > "$D/ncu_${i}.csv" 2> "$D/ncu_${i}.err"
  echo "$i $shape rc=$? ($(date -u +%H:%M:%S))" | tee -a "$LOG"
  # Pack what is there so far: a killed call still returns the shapes it finished.
  python3 scripts/ncu_to_json.py "$D" > "$D/ncu.json.tmp" 2>> "$LOG" && mv "$D/ncu.json.tmp" "$D/ncu.json"
done
rm -f "$D"/ncu_*.csv "$D"/run_*.json
find "$D" -name 'ncu_*.err' -empty -delete
python3 - "$D/ncu.json" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
print(len(runs), "profiled runs")
for r in runs:
    m = r["metrics"]
    clk = m.get("gpc__cycles_elapsed.avg.per_second", {}).get("value", 0) / 1e6
    print("%-40s %-44s %6.0f MHz" % ("x".join(str(r["problem"][k]) for k in ("m", "n", "k")), r["kernel"], clk))
EOF
