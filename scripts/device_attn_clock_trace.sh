#!/usr/bin/env bash
# The SM clock FA3 runs at under the attention runner's own timing:
# a sweep with --clock-trace, which after a shape's round-robin passes launches each attn_fa3
# kernel once more with each CTA recording clock64 and %globaltimer at its start and end
# (kernels/common/clock_span.hpp): the run's "clock_trace", which validate sets against the
# model's predicted clock. NVML's clock of the same passes is printed beside it.
#
# usage (repository root on the device): bash scripts/device_attn_clock_trace.sh BIN
#   BIN: tilesim-attn-bench. FILTER (kernels) overrides the default (every attn_fa3 kernel
#   of the binary); SHAPES, a shapes file, the built-in sweep shapes (training). The
#   measurement JSON and the log go to $OUT.
set -uo pipefail
ATTN=${1:?tilesim-attn-bench binary}
O=${OUT:-/tmp}
# cuDNN (the runner links it): the system's, else the one torch brings.
if ! ldd "$ATTN" | grep -q "libcudnn.so.9 => /"; then
  D=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), 'lib'))" 2>/dev/null)
  [[ -n "$D" ]] && export LD_LIBRARY_PATH=$D:${LD_LIBRARY_PATH:-}
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv | tee $O/env.txt
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
FILTER=${FILTER:-fa3_}
t0=$SECONDS
# SHAPES: a shapes file (its "attention" list), else the runner's built-in sweep shapes.
timeout 400 $ATTN --sweep --kernel "$FILTER" --clock-trace ${SHAPES:+--shapes-file "$SHAPES"} \
  --out $O/${GPU}_attn_clock_trace.json > $O/attn_clock_trace.log 2>&1
echo "sweep rc=$? $((SECONDS-t0)) s"
python3 - "$O/${GPU}_attn_clock_trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print('%-40s %-40s %9s %6s %6s %6s' % ('config', 'shape', 'ms', 'NVML', 'SMclk', 'p10'))
for r in m['runs']:
    t = r.get('clock_trace')
    if not t: continue
    p = r['problem']
    nv = [x['sm_mhz_median'] for x in r.get('nvml_per_pass', []) if isinstance(x, dict) and x.get('sm_mhz_median')]
    print('%-40s %-40s %9.4f %6.0f %6.0f %6.0f' % (r.get('kernel', r.get('config', ''))[:40], 'b%d h%d s%d d%d c%d' % (
        p['batch'], p['heads_q'], p['seq_q'], p['head_dim'], p['causal']), r['median_ms'],
        sorted(nv)[len(nv) // 2] if nv else 0, t['sm_clock_mhz']['median'], t['sm_clock_mhz']['p10']))
PY
