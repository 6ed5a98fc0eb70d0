#!/usr/bin/env bash
# Every GPU measurement of tilesim in one device call: device report, the microbenchmark
# suite, the GEMM, attention-forward and decode sweeps (each with its checks, sanitizer
# and vendor reference). Each family's outputs are packed into one tarball under $OUT
# (the device tool returns at most 8 files).
#   run(command="bash scripts/device_all.sh build/h100", carry=["build/h100"])
# build dir layout: mb/microbench/tilesim-microbench (+ libbenchmark.so.1debian),
# gemm/tilesim-gemm-bench, attn/tilesim-attn-bench, decode/tilesim-decode-bench,
# tilesim-device-info.
set -uo pipefail
B=${1:-build/h100}
OUT=${OUT:-/tmp/tilesim_all_out}
mkdir -p "$OUT"
status=0
"$B/tilesim-device-info" > "$OUT/device_info.json" || status=1
pack() { tar -C "$OUT" -czf "$OUT/$1.tgz" "$1" && rm -rf "${OUT:?}/$1"; }
OUT="$OUT/microbench" MICROBENCH_BIN="$B/mb/microbench/tilesim-microbench" bash scripts/device_microbench.sh full || status=1
pack microbench
OUT="$OUT/gemm" bash scripts/device_gemm.sh "$B/gemm" || status=1
pack gemm
OUT="$OUT/attention" BUILD="$B/attn" REPS=${REPS:-30} PASSES=${PASSES:-3} bash scripts/device_attention.sh || status=1
pack attention
OUT="$OUT/decode" bash scripts/device_decode.sh "$B/decode" || status=1
pack decode
echo "device_all.sh status=$status"
exit $status
