#!/usr/bin/env bash
# Where a gemm_sm90_ws or gemm_sm90_fp8 K step's time goes, stage by stage: a timed
# sweep with --stage-trace, which after each config's timing runs one more launch from a
# flushed L2 that records each CTA's first K steps (SM clock at the producer's TMA issue, at
# consumer warpgroup 0's full barrier and at its release of the stage), summarized per run
# as "stage_trace" (kernels/common/stage_trace_summary.hpp).
#
# usage (repository root on the device): bash scripts/device_gemm_stage_trace.sh BIN
#   BIN: tilesim-gemm-bench built with -DTILESIM_STAGE_TRACE=ON (the per-K-step marks are
#   compiled out of timing builds: they slow the consumer loops; its timings are not the
#   kernels' own). DTYPE (bf16 | fp8: the block-scaled kernel, one K step = one
#   128-wide scale group), SHAPES (MxNxK ...), FILTER (configs), STEPS and NAME (the file's
#   suffix) override the defaults. The measurement JSON and the log go to $OUT.
set -uo pipefail
GEMM=${1:?tilesim-gemm-bench binary}
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}; done
O=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv | tee $O/env.txt
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
DTYPE=${DTYPE:-bf16}
SHAPES=${SHAPES:-"128x8192x8192 8192x8192x8192 2048x2048x2048 4096x4096x4096 1024x1024x32768 2000x3000x1000"}
if [[ $DTYPE == fp8 ]]; then
  FILTER=${FILTER:-sm90_fp8}
else
  FILTER=${FILTER:-sm90_ws_128x256x64_s4_c2_cl1x1_r8,sm90_ws_256x128x64_s4_c2_cl1x1_r8,sm90_ws_128x128x64_s6_c2_cl1x1_r8,sm90_ws_128x128x64_s6_c1_cl1x1_r8,sm90_ws_128x256x64_s4_c2_cl2x1_r8}
fi
STEPS=${STEPS:-2048}
NAME=${NAME:-stage_trace}
args=(); for s in $SHAPES; do IFS=x read -r m n k <<< "$s"; args+=(--shape "m=$m,n=$n,k=$k"); done
t0=$SECONDS
timeout 400 $GEMM --sweep --dtype "$DTYPE" "${args[@]}" --filter "$FILTER" --final-rounds 0 --stage-trace "$STEPS" \
  --out $O/${GPU}_${NAME}.json > $O/${NAME}.log 2>&1
echo "sweep rc=$? $((SECONDS-t0)) s"
python3 - "$O/${GPU}_${NAME}.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print('%-36s %-16s %8s %6s %6s | %6s %6s %6s | %6s %6s %6s %6s %6s | %s' % ('config', 'shape', 'ms', 'NVML', 'SMclk', 'load', 'p10', 'p90', 'hold', 'reiss', 'step', 'ring', 'gap', 'step by quarter'))
for r in m['runs']:
    t = r.get('stage_trace')
    if not t: continue
    p = r['problem']; g = lambda k, q='median': t[k][q]
    print('%-36s %-16s %8.4f %6.0f %6.0f | %6.0f %6.0f %6.0f | %6.0f %6.0f %6.0f %6.0f %6.0f | %s' % (
        r['config'][:36], '%dx%dx%d' % (p['m'], p['n'], p['k']), r['median_ms'], r['nvml'].get('sm_mhz_median', 0),
        g('sm_clock_mhz'), g('load_cycles'), g('load_cycles', 'p10'), g('load_cycles', 'p90'), g('hold_cycles'),
        g('reissue_cycles'), g('step_cycles'), g('ring_cycles'), g('item_gap_cycles'),
        ' '.join('%.0f' % x for x in t['step_cycles_by_quarter'])))
PY
