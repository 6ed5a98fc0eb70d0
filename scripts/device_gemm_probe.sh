#!/usr/bin/env bash
# Two GEMM questions the held-out errors raised, answered on the GPU machine in one call:
#  1. Row-stride alignment: the same GEMM with K (A and B row stride) or N (C row stride)
#     moved off a 128-byte multiple by 16, 32 and 64 bytes, next to the aligned shape.
#     Timed sweeps of the best tiles plus cuBLAS, then ncu (--clock-control none) on one
#     tile per shape: L2 sectors and requests, DRAM bytes, tensor-pipe activity, SM clock.
#  2. Run length and the clock: one tile timed with few and with many repetitions, so that
#     the NVML clock of a short pass and of a power-limited steady state can be compared.
# These are diagnostic (training) shapes: none is in data/heldout/shapes.json.
#
# usage (repository root on the device): bash scripts/device_gemm_probe.sh BIN [steps]
#   BIN: tilesim-gemm-bench; steps: any of "align ncu duration" (default all)
set -u -o pipefail
BIN=${1:?tilesim-gemm-bench binary}
STEPS=${2:-align ncu duration}
# duration_specs: "shape reps" pairs for the duration step
DURATION_SPECS=${DURATION_SPECS:-"8192x8192x8192 30;8192x8192x8192 400;4096x12288x4096 30;4096x12288x4096 1500"}
# Everything is written under a work folder and packed into one tarball in $OUT (the device
# tool brings back a few files only).
FINAL=${OUT:-/tmp/tilesim_gemm_probe}
OUT=$(mktemp -d /tmp/gemm_probe.XXXX)
mkdir -p "$FINAL"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
done
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# Aligned base 4096^3; K + 8/16/32 elements = row stride + 16/32/64 B; N + 8 = C stride + 16 B;
# a small pair (1024^3 vs 1016^3: every stride + 112 B) where launch and tail effects weigh more.
ALIGN_SHAPES="4096x4096x4096 4096x4096x4104 4096x4096x4112 4096x4096x4128 4096x4104x4096 1024x1024x1024 1016x1016x1016"
TILES=sm90_ws_128x256x64_s4_c2_cl2x1_r8,sm90_ws_128x192x64_s4_c2_cl2x1_r8,sm90_ws_256x128x64_s4_c2_cl1x2_r8,sm90_ws_128x128x64_s6_c2_cl1x1_r8,sm90_ws_128x256x64_s4_c2_cl1x1_r8
NCU_TILE=sm90_ws_128x256x64_s4_c2_cl2x1_r8  # --filter matches by prefix: its split-K variants run too
NCU_TILES=sm90_ws_128x128x64_s6_c2_cl1x1_r8,$NCU_TILE
shape_arg() { IFS=x read -r m n k <<< "$1"; echo "m=$m,n=$n,k=$k"; }

if [[ " $STEPS " == *" align "* ]]; then
  echo "== align sweeps"
  args=()
  for s in $ALIGN_SHAPES; do args+=(--shape "$(shape_arg "$s")"); done
  timeout 240 "$BIN" --sweep "${args[@]}" --filter "$TILES" --out "$OUT/align_sweep.json" > "$OUT/align_sweep.log" 2>&1
  echo "align sweep rc=$?"
fi

if [[ " $STEPS " == *" ncu "* ]]; then
  echo "== ncu"
  ncu --version > "$OUT/ncu_version.txt" 2>&1
  METRICS=gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,lts__t_sectors_op_read.sum,lts__t_requests_op_read.sum,\
lts__t_sectors_op_write.sum,lts__t_requests_op_write.sum,lts__t_sectors.sum,lts__t_requests.sum,dram__bytes_read.sum,\
dram__bytes_write.sum,lts__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sector_hit_rate.pct,\
sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sectors_srcunit_tex_op_read.sum,\
lts__t_requests_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_write.sum,lts__t_requests_srcunit_tex_op_write.sum
  for s in 4096x4096x4096 4096x4096x4104 4096x4096x4112 4096x4096x4128 4096x4104x4096; do
    timeout 60 ncu --clock-control none --metrics "$METRICS" -k regex:gemm_sm90_ws_kernel --csv --page raw \
      "$BIN" --check --shape "$(shape_arg "$s")" --filter "$NCU_TILES" > "$OUT/ncu_$s.csv" 2> "$OUT/ncu_$s.err"
    echo "ncu $s rc=$?"
  done
  python3 "$(dirname "$0")/ncu_probe_to_json.py" "$OUT" > "$OUT/ncu_probe.json" || echo "ncu_probe_to_json failed"
fi

if [[ " $STEPS " == *" duration "* ]]; then
  echo "== duration: one tile, few vs many repetitions (each pass's NVML clock)"
  IFS=";" read -r -a specs <<< "$DURATION_SPECS"
  for spec in "${specs[@]}"; do
    read -r s reps <<< "$spec"
    timeout 120 "$BIN" --sweep --shape "$(shape_arg "$s")" --filter "$NCU_TILE" --warmup 5 --reps "$reps" \
      --out "$OUT/duration_${s}_r${reps}.json" > "$OUT/duration_${s}_r${reps}.log" 2>&1
    echo "duration $s reps=$reps rc=$?"
  done
fi
nvidia-smi --query-gpu=name,clocks.sm,power.draw,temperature.gpu --format=csv,noheader

python3 - "$OUT" <<'EOF'
import csv, glob, json, os, sys
out = sys.argv[1]
def rows(path):
    try:
        d = json.load(open(path))
    except Exception as e:
        print(path, "unreadable:", e); return []
    return d.get("runs", [])
p = os.path.join(out, "align_sweep.json")
if os.path.exists(p):
    print("%-18s %-40s %9s %7s %6s" % ("shape", "config", "us", "TFLOP/s", "MHz"))
    for r in rows(p):
        if r.get("median_ms") is None: continue
        q = r["problem"]
        print("%-18s %-40s %9.1f %7.0f %6s" % ("%dx%dx%d" % (q["m"], q["n"], q["k"]), r.get("config", "")[:40],
              r["median_ms"] * 1e3, r.get("tflops", 0), r.get("nvml", {}).get("sm_mhz_median")))
for f in sorted(glob.glob(os.path.join(out, "ncu_*.csv"))):
    lines = [l for l in open(f) if l.startswith('"')]
    rs = list(csv.reader(lines))
    if len(rs) < 3: print(f, "no rows"); continue
    names = rs[0]
    for r in rs[2:]:
        v = dict(zip(names, r))
        keys = ["gpu__time_duration.sum", "sm__cycles_elapsed.avg.per_second", "lts__t_sectors_op_read.sum",
                "lts__t_requests_op_read.sum", "lts__t_sectors_op_write.sum", "lts__t_requests_op_write.sum", "dram__bytes_read.sum", "dram__bytes_write.sum",
                "lts__throughput.avg.pct_of_peak_sustained_elapsed",
                "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed"]
        print(os.path.basename(f)[4:-4], v.get("Grid Size", v.get("launch__grid_size", "")), " ".join("%s=%s" % (k.split("__")[1][:24], v.get(k, "?")) for k in keys))
for f in sorted(glob.glob(os.path.join(out, "duration_*.json"))):
    for r in rows(f):
        if r.get("median_ms") is None: continue
        s = r.get("samples_ms", [])
        n = r.get("nvml", {})
        print(os.path.basename(f), r.get("config", "")[:28], "median %.1f us first5 %.1f last5 %.1f" % (
            r["median_ms"] * 1e3, 1e3 * sum(s[:5]) / max(1, len(s[:5])), 1e3 * sum(s[-5:]) / max(1, len(s[-5:]))),
            "MHz med/min", n.get("sm_mhz_median"), n.get("sm_mhz_min"), "W", round(n.get("power_w_mean", 0)), "n", n.get("samples"))
EOF
tar czf "$FINAL/gemm_probe.tgz" -C "$OUT" . 2>/dev/null
