#!/usr/bin/env bash
# Runs the libFuzzer harnesses (fuzz/) built by the asan preset (clang, ASan + UBSan).
#   scripts/fuzz.sh                       every harness, 60 s each (on demand)
#   scripts/fuzz.sh --seconds 30          CI's short run
#   scripts/fuzz.sh --runs 1000000 tile   a long run: 10^6 inputs of one harness
# Each harness starts from its committed seed corpus (fuzz/corpus/<h>/, never modified
# here) plus the inputs it found in earlier runs (build/asan/fuzz-work/<h>/). A crash,
# hang (-timeout) or sanitizer report stops the script with exit 1 and names the input:
# copy it to fuzz/regressions/<h>/ so that CTest replays it from then on (fuzz_<h>_replay).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
runs=""
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
all=(profile constants measurement tile scale problem_options)
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")
# A single input taking longer than this is a hang; memory above the limit is a finding.
timeout_s=10
rss_limit_mb=2048
. scripts/env.sh
cmake --preset asan >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build --preset asan --target "${targets[@]}" >/dev/null
work=build/asan/fuzz-work
# Two fuzzers at a time: one per core of the CI machine.
parallel=$(( $(nproc) < 2 ? 1 : 2 ))
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_one() {
  local h="$1"
  mkdir -p "$work/$h" "$work/artifacts/$h"
  local limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  if build/asan/fuzz/"fuzz_$h" "${limit[@]}" -timeout="$timeout_s" -rss_limit_mb="$rss_limit_mb" \
       -artifact_prefix="$work/artifacts/$h/" -print_final_stats=1 \
       "$work/$h" "fuzz/corpus/$h" >"$work/$h.log" 2>&1; then
    echo "fuzz: $h ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/$h.log" | grep -o '[0-9]*$') inputs)"
  else
    echo "fuzz: $h FAILED: log $work/$h.log; inputs found: $(ls "$work/artifacts/$h" | tr '\n' ' ')" >&2
    echo "      copy each to fuzz/regressions/$h/ and fix the bug" >&2
    # A CI machine's work folder is gone with it: its log shows what failed and each input
    # (base64, at most 4 KiB shown) so that the crash can be rebuilt anywhere.
    grep -m1 -A12 -E "ERROR: |runtime error|invariant broken|terminate called|deadly signal" "$work/$h.log" | sed 's/^/      | /' >&2 || true
    local a
    for a in "$work/artifacts/$h"/*; do
      [ -f "$a" ] || continue
      echo "      input $(basename "$a") ($(stat -c %s "$a") B, base64):" >&2
      head -c 4096 "$a" | base64 -w 100 | sed 's/^/      | /' >&2
    done
    return 1
  fi
}
pids=()
failed=0
for h in "${harnesses[@]}"; do
  run_one "$h" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
