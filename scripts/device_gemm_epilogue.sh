#!/usr/bin/env bash
# The Hopper GEMM epilogue on the GPU machine: tilesim-microbench's gemm/epilogue rows (the
# kernels' own store code, no main loop; microbench/bench_gemm_epilogue.cu) with the
# streaming HBM rows beside them, 3 repetitions; then tilesim-gemm-bench --check (every
# config, split-K included: the split-K store is the function the benchmark runs).
# usage (repository root on the device): bash scripts/device_gemm_epilogue.sh BINDIR
#   BINDIR holds tilesim-microbench, tilesim-gemm-bench and libbenchmark.so.1debian.
# Writes $OUT/gemm_epilogue.json (Google Benchmark JSON), $OUT/env.txt, $OUT/check.log and
# prints a short table last.
set -uo pipefail
BIN=${1:?directory with tilesim-microbench and tilesim-gemm-bench}
OUT=${OUT:-/tmp/gemm_epilogue_out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH="$BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
timeout 300 "$BIN/tilesim-microbench" --benchmark_filter='gemm/epilogue|hbm/read$|hbm/copy$' \
  --benchmark_repetitions=3 --benchmark_display_aggregates_only=true \
  --benchmark_out="$OUT/gemm_epilogue.json" --benchmark_out_format=json > "$OUT/microbench.log" 2>&1
echo "microbench rc=$?"
timeout 240 "$BIN/tilesim-gemm-bench" --check > "$OUT/check.log" 2>&1
echo "gemm check rc=$?"
tail -n 3 "$OUT/check.log"
python3 - "$OUT/gemm_epilogue.json" <<'EOF'
import json, sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"]
print(f"{'benchmark':48s} {'B/clk/SM':>9s} {'MHz':>6s} {'cycles/tile':>11s}")
for b in rows:
    per = b.get("bytes_per_clk_sm", 0)
    tile = b.get("tile_bytes", 0)
    cyc = tile / per if per and tile else 0
    print(f"{b['run_name']:48s} {per:9.2f} {b.get('sm_clock_mhz', 0):6.0f} {cyc:11.0f}")
EOF
