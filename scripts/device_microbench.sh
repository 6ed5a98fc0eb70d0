#!/usr/bin/env bash
# Runs tilesim-microbench on the GPU machine and leaves its JSON under $OUT.
#
#   scripts/device_microbench.sh smoke   quick mode once + the full suite with 1 repetition
#                                        (catches a crashing benchmark before the real run)
#   scripts/device_microbench.sh full    the full suite 3 times (agreement check), then
#                                        quick mode (its wall time is the <= 30 s check)
#
# Built on the CPU machine (build/mb, carried with the call; libbenchmark.so.1debian sits
# beside the binary, found through rpath $ORIGIN). Prints nvidia-smi facts, the SASS
# checks (HGMMA/QGMMA, MUFU.EX2, bulk copy; ptxas warnings were build errors), and last a
# table of measured vs peak per clock (microbench/summarize.py).
set -uo pipefail
mode="${1:-full}"
out="${OUT:-/tmp/microbench_out}"
mkdir -p "$out"
bin="${MICROBENCH_BIN:-build/mb/microbench/tilesim-microbench}"
log="$out/console.log"
if [[ ! -x "$bin" ]]; then
  echo "device_microbench: no binary at $bin (build it and carry build/mb)" >&2
  exit 1
fi

{
  echo "== nvidia-smi ($(date -u +%FT%TZ))"
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,memory.total \
    --format=csv
  echo "== SASS checks"
  sass="$out/sass_counts.txt"
  cuobjdump -sass "$bin" > /tmp/microbench.sass
  grep -oE "HGMMA\.[0-9x]+\.F32(\.[A-Z0-9]+)?|QGMMA\.[0-9x]+\.F32\.E4M3\.E4M3|HMMA\.[0-9]+\.F32(\.[A-Z0-9]+)?|MUFU\.EX2|F2FP\.BF16\.F32\.PACK_AB|LDSM\.16\.M88\.4|UBLKCP\.S\.G|UTMALDG\.2D|LDS\.128|STS\.128|F2FP\.F16\.E4M3\.UNPACK" \
    /tmp/microbench.sass | sort | uniq -c | tee "$sass"
  for need in HGMMA QGMMA MUFU.EX2 UBLKCP UTMALDG; do
    grep -q "$need" "$sass" || echo "SASS CHECK FAILED: no $need in the binary"
  done
} 2>&1 | tee "$log"

run() {  # run <tag> <args...>
  local tag="$1"
  shift
  local t0 t1
  t0=$(date +%s%N)
  timeout "${MICROBENCH_TIMEOUT_S:-120}" "$bin" "$@" --benchmark_out="$out/$tag.json" --benchmark_out_format=json \
    --benchmark_display_aggregates_only=true >> "$log" 2>&1
  local rc=$?
  t1=$(date +%s%N)
  printf "== %s: rc=%d wall %d ms\n" "$tag" "$rc" "$(((t1 - t0) / 1000000))" | tee -a "$log"
  grep -E "ERROR|error_message|CLOCK_DROP|REP_SPREAD|SPREAD>" "$log" | tail -n 5
  return $rc
}

status=0
case "$mode" in
  smoke)
    run quick --tilesim_quick || status=1
    run full_rep2 --benchmark_repetitions=2 || status=1
    tables=("$out/full_rep2.json")
    ;;
  full)
    # A failed (or hung) first run would fail the same way again: stop there.
    if run run1; then
      run run2 || status=1
      run run3 || status=1
      run quick --tilesim_quick || status=1
      tables=("$out/run1.json" "$out/run2.json" "$out/run3.json")
    else
      status=1
      tables=("$out/run1.json")
    fi
    ;;
  *)
    echo "usage: $0 smoke|full" >&2
    exit 2
    ;;
esac
nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv | tee -a "$log"
python3 microbench/summarize.py "${tables[@]}" | tee "$out/summary.txt"
exit $status
