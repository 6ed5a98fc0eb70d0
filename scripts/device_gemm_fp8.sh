#!/usr/bin/env bash
# Block-scaled fp8 GEMM (gemm_sm90_fp8) on the GPU machine, in one call:
#   env      nvidia-smi clocks/power, the binary's instance list
#   sass     every fp8 kernel has QGMMA ... E4M3 (SASS spells 8-bit wgmma QGMMA, 16-bit
#            HGMMA) and no local memory (LDL/STL)
#   check    --check --dtype fp8 on odd shapes (M, N, K off the tiles, K % 128 != 0), then
#            the bf16 --check (the sm90 pieces both kernels share: gemm_sm90_common.cuh)
#   sanitize compute-sanitizer memcheck on small fp8 shapes (every fp8 config) and two
#            bf16 configs (multicast, split-K); synccheck on the mma_order (named barrier)
#            fp8 configs
#   sweep    train shapes (data/train/shapes_fp8_2026-11-27.json, with final alternating
#            rounds on 8192^3) and held-out shapes (data/heldout/shapes.json "gemm_fp8"),
#            every fp8 config + cuBLASLt fp8 (per-tensor scales) + cuBLAS bf16, same process
#   ncu      profiles (--clock-control none) of the best fp8 config on 8192^3 and of its
#            plain twin (a plain best: its ordered _o2 twin)
# Outputs under $OUT: the measurement JSONs and logs.tgz; a short table is printed last.
#
# usage (repository root on the device): bash scripts/device_gemm_fp8.sh BIN_DIR
#   BIN_DIR holds tilesim-gemm-bench (built on the dev machine with TILESIM_ALL_KERNELS=ON)
#   STEPS="env sass check sanitize sweep ncu" (default: all)
set -u -o pipefail
B=${1:?directory holding tilesim-gemm-bench}
OUT=${OUT:-/tmp/gemm_fp8_out}
HERE=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${STEPS:-"env sass check sanitize sweep ncu"}
TRAIN=${TRAIN:-$HERE/data/train/shapes_fp8_2026-11-27.json}
HELDOUT=${HELDOUT:-$HERE/data/heldout/shapes.json}
mkdir -p "$OUT" "$OUT/logs"
L="$OUT/logs"
BIN=$(find "$B" -name tilesim-gemm-bench -type f | head -n 1)
[[ -n "$BIN" ]] || { echo "device_gemm_fp8.sh: no tilesim-gemm-bench under $B" >&2; exit 2; }
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -e $d/libcublasLt.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
done
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
DAY=$(date -u +%Y-%m-%d)
has() { [[ " $STEPS " == *" $1 "* ]]; }
rc_check=-1 rc_bf16=-1 rc_san=-1 rc_train=-1 rc_held=-1 rc_ncu=-1

if has env; then
  { date -u; nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv
    ldd "$BIN" | grep -i cublas; "$BIN" --list; } > "$L/env.txt" 2>&1
fi

if has sass; then
  # Per kernel: wgmma (HGMMA 16-bit, QGMMA 8-bit), those with E4M3 operands, LDL/STL (spills).
  cuobjdump --dump-sass "$BIN" > /tmp/gemm_fp8.sass 2>&1
  awk '/Function :/{f=$3; all[f]=1} /[HQ]GMMA/{h[f]++} /QGMMA.*E4M3/{e[f]++} /LDL|STL/{l[f]++}
       END{for (k in all) if (k ~ /gemm_sm90/) printf "%5d GMMA %5d QGMMA.E4M3 %4d LDL/STL  %s\n", h[k], e[k], l[k], k}' \
    /tmp/gemm_fp8.sass | sort -k7 > "$L/sass_summary.txt"
  grep -oE "[HQI]GMMA\.[A-Za-z0-9x.]+" /tmp/gemm_fp8.sass | sort | uniq -c >> "$L/sass_summary.txt"
fi

if has check; then
  echo "== check fp8 ($(date -u +%T))"
  timeout 150 "$BIN" --check --dtype fp8 --out "$OUT/${DAY}_${GPU}_fp8_check.json" > "$L/check_fp8.log" 2>&1
  rc_check=$?
  tail -n 2 "$L/check_fp8.log"
  echo "== check bf16 ($(date -u +%T))"
  timeout 150 "$BIN" --check > "$L/check_bf16.log" 2>&1
  rc_bf16=$?
  tail -n 1 "$L/check_bf16.log"
fi

if has sanitize && [[ $rc_check -ne 124 ]]; then
  echo "== compute-sanitizer memcheck ($(date -u +%T))"
  { timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$BIN" --check --dtype fp8 --shapes 333x520x208,129x264x144
    r1=$?
    timeout 90 compute-sanitizer --tool memcheck --error-exitcode 9 "$BIN" --check --shapes 333x520x200 \
      --filter sm90_ws_128x256x64_s4_c2_cl2x1_r8,sm90_ws_128x128x64_s6_c2_cl1x1_r8_sk2
    r2=$?
    timeout 90 compute-sanitizer --tool synccheck --error-exitcode 9 "$BIN" --check --dtype fp8 --shapes 333x520x208 \
      --filter _o
    r3=$?
    echo "sanitizer rc fp8=$r1 bf16=$r2 synccheck=$r3"; } > "$L/sanitizer.log" 2>&1
  rc_san=$(sed -n 's/^sanitizer rc fp8=\([0-9]*\) bf16=\([0-9]*\) synccheck=\([0-9]*\)$/\1\2\3/p' "$L/sanitizer.log")
  [[ $rc_san == 000 ]] && rc_san=0
  grep -E "ERROR SUMMARY|sanitizer rc" "$L/sanitizer.log"
fi

if has sweep && [[ $rc_check -ne 124 ]]; then
  echo "== sweep train ($(date -u +%T))"
  timeout 200 "$BIN" --sweep --dtype fp8 --shapes-file "$TRAIN" --reps 30 --final-rounds 5 --final-top 3 \
    --out "$OUT/${DAY}_${GPU}_fp8_train.json" > "$L/sweep_train.log" 2>&1
  rc_train=$?
  echo "== sweep held-out ($(date -u +%T))"
  timeout 200 "$BIN" --sweep --dtype fp8 --shapes-file "$HELDOUT" --reps 30 --final-rounds 0 \
    --out "$OUT/${DAY}_${GPU}_fp8_heldout.json" > "$L/sweep_heldout.log" 2>&1
  rc_held=$?
fi

if has ncu && [[ -s "$OUT/${DAY}_${GPU}_fp8_train.json" ]]; then
  BEST=$(python3 - "$OUT/${DAY}_${GPU}_fp8_train.json" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
t = [r for r in runs if r["impl"] == "tilesim" and r["problem"]["m"] == 8192 and r["problem"]["n"] == 8192
     and r.get("median_ms") and not r.get("note")]
print(min(t, key=lambda r: r["median_ms"])["config"] if t else "")
EOF
)
  # The best config and its plain twin (names end in _o / _o2 with mma_order 1 / 2, _p with
  # promote_overlap), or the ordered (_o2) twin of a plain best.
  case $BEST in
    *_o) TWIN=${BEST%_o} ;;
    *_o2) TWIN=${BEST%_o2} ;;
    *_p) TWIN=${BEST%_p} ;;
    *) TWIN=${BEST}_o2 ;;
  esac
  rc_ncu=0
  for CFG in $BEST $TWIN; do
    echo "== ncu $CFG on 8192^3 ($(date -u +%T))"
    timeout 150 ncu --clock-control none -k regex:gemm_sm90_fp8_kernel --launch-count 1 \
      --section SpeedOfLight --section ComputeWorkloadAnalysis --section SchedulerStats --section WarpStateStats \
      --section MemoryWorkloadAnalysis --csv --page raw \
      "$BIN" --check --dtype fp8 --shapes 8192x8192x8192 --filter "$CFG" > "$L/ncu_$CFG.csv" 2> "$L/ncu_$CFG.err"
    rc_ncu=$((rc_ncu | $?))
    python3 - "$L/ncu_$CFG.csv" <<'EOF' | tee "$L/ncu_${CFG}_summary.txt"
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r]
hdr = next((i for i, r in enumerate(rows) if "Kernel Name" in r), None)
if hdr is None or len(rows) < hdr + 3:
    print("no ncu rows"); sys.exit(0)
names, vals = rows[hdr], rows[hdr + 2]
want = ("gpc__cycles_elapsed.max", "sm__cycles_elapsed.avg.per_second", "sm__throughput.avg.pct_of_peak_sustained_elapsed",
        "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",
        "sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active", "sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",
        "lts__t_sectors.avg.pct_of_peak_sustained_elapsed", "lts__throughput.avg.pct_of_peak_sustained_elapsed",
        "dram__throughput.avg.pct_of_peak_sustained_elapsed", "sm__issue_active.avg.pct_of_peak_sustained_active",
        "smsp__average_warp_latency_issue_stalled_long_scoreboard", "smsp__average_warps_issue_stalled_wait_per_issue_active.ratio",
        "gpu__time_duration.sum", "sm__pipe_tensor_type_hmma_hgmma_qgmma_imma_igmma_bmma_bgmma_cycles_active.avg.pct_of_peak_sustained_elapsed",
        "sm__issue_active.avg.pct_of_peak_sustained_elapsed", "lts__t_bytes.sum.per_second")
for n, v in zip(names, vals):
    if n in want or (".avg." in n and "stalled" in n and "per_issue_active" in n):
        print(f"{n:80s} {v}")
EOF
  done
fi

tar -C "$OUT" -czf "$OUT/logs.tgz" logs && rm -rf "$L"
echo "== clocks now"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv,noheader
echo "== result: check fp8 rc=$rc_check bf16 rc=$rc_bf16 sanitizer rc=$rc_san sweep train rc=$rc_train held-out rc=$rc_held ncu rc=$rc_ncu"
tar -xzOf "$OUT/logs.tgz" logs/sass_summary.txt 2>/dev/null | grep fp8 | cut -c1-120
for f in "$OUT/${DAY}_${GPU}_fp8_train.json" "$OUT/${DAY}_${GPU}_fp8_heldout.json"; do
  [[ -s $f ]] || continue
  python3 - "$f" <<'EOF'
import json, sys, statistics
runs = json.load(open(sys.argv[1]))["runs"]
shapes = {}
for r in runs:
    if not r.get("median_ms") or str(r.get("note", "")).startswith("final_round"): continue
    p = r["problem"]; key = f'{p["m"]}x{p["n"]}x{p["k"]}'
    shapes.setdefault(key, []).append(r)
print(f"\n{sys.argv[1].split('/')[-1]}")
print(f'{"shape":18s} {"best tilesim config":38s} {"TF/s":>7s} {"LtF/s":>7s} {"ratio":>6s} {"Lt fast":>7s} {"bf16":>6s}')
for key, rs in shapes.items():
    t = [r for r in rs if r["impl"] == "tilesim"]
    lt = [r["tflops"] for r in rs if r["impl"] == "cublaslt_fp8_tensor_scale"]
    fa = [r["tflops"] for r in rs if r["impl"] == "cublaslt_fp8_tensor_scale_fast_accum"]
    bf = [r["tflops"] for r in rs if r["impl"] == "cublas"]
    b = max(t, key=lambda r: r["tflops"]) if t else None
    ltb = max(lt) if lt else 0
    print(f'{key:18s} {b["config"] if b else "-":38s} {b["tflops"] if b else 0:7.1f} {ltb:7.1f} '
          f'{(b["tflops"] / ltb if b and ltb else 0):6.3f} {max(fa) if fa else 0:7.1f} {max(bf) if bf else 0:6.1f}')
EOF
done
tar -xzOf "$OUT/logs.tgz" logs/sweep_train.log 2>/dev/null | grep -A6 "^final rounds"
# A step left out (STEPS) counts as passed; one that ran must have passed.
for rc in $rc_check $rc_san $rc_train $rc_held; do [[ $rc == -1 || $rc == 0 ]] || exit 1; done
