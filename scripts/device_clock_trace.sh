#!/usr/bin/env bash
# The SM clock kernels run at under their runner's own timing: a sweep with --clock-trace,
# which after the timed samples launches each kernel once more with each CTA recording
# clock64 and %globaltimer at its start and end (kernels/common/clock_span.hpp): the run's
# "clock_trace", which validate sets against the model's predicted clock. NVML's clock of
# the same passes is printed beside it (it is not the SMs').
#
# usage (repository root on the device): bash scripts/device_clock_trace.sh FAMILY BIN
#   FAMILY attention (BIN tilesim-attn-bench: every attn_fa3 kernel of the binary, after a
#   shape's round-robin passes) or decode (BIN tilesim-decode-bench: every run, after its
#   samples, from a flushed L2). SHAPES: a shapes file (its list for the family), else the
#   runner's built-in sweep shapes (training). FILTER: kernels (default: all). The
#   measurement JSON and the log go to $OUT.
set -uo pipefail
FAMILY=${1:?attention or decode}
BIN=${2:?runner binary}
O=${OUT:-/tmp}
# cuDNN (the attention runner links it): the system's, else the one torch brings.
if ldd "$BIN" | grep -q "libcudnn.so.9 => not found"; then
  D=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), 'lib'))" 2>/dev/null)
  [[ -n "$D" ]] && export LD_LIBRARY_PATH=$D:${LD_LIBRARY_PATH:-}
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv | tee $O/env.txt
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
case $FAMILY in
  attention) FILTER=${FILTER:-fa3_} ;;
  decode) FILTER=${FILTER:-d} ;;
  *) echo "FAMILY must be attention or decode, got '$FAMILY'" >&2; exit 2 ;;
esac
t0=$SECONDS
timeout 400 $BIN --sweep --kernel "$FILTER" --clock-trace ${SHAPES:+--shapes-file "$SHAPES"} \
  --out $O/${GPU}_${FAMILY}_clock_trace.json > $O/${FAMILY}_clock_trace.log 2>&1
echo "sweep rc=$? $((SECONDS-t0)) s"
python3 - "$O/${GPU}_${FAMILY}_clock_trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print('%-40s %-44s %9s %6s %6s %6s' % ('config', 'problem', 'ms', 'NVML', 'SMclk', 'p10'))
for r in m['runs']:
    t = r.get('clock_trace')
    if not t: continue
    nv = [x['sm_mhz_median'] for x in r.get('nvml_per_pass', []) if isinstance(x, dict) and x.get('sm_mhz_median')]
    nv = nv or [r.get('nvml', {}).get('sm_mhz_median', 0)]
    name = r.get('kernel') or r.get('variant') or r.get('config', '')
    prob = ' '.join('%s=%s' % (k, v) for k, v in r['problem'].items() if k not in ('kind', 'dtype'))
    print('%-40s %-44s %9.4f %6.0f %6.0f %6.0f' % (name[:40], prob[:44], r['median_ms'], sorted(nv)[len(nv) // 2],
                                                   t['sm_clock_mhz']['median'], t['sm_clock_mhz']['p10']))
PY
