#!/usr/bin/env bash
# Why a 3-stage ring is slower than a 4-stage one on compute-bound GEMMs, and why 256x128
# tiles more so than 128x256 (training shapes only): timed sweeps of the stage/tile pairs,
# then ncu (--clock-control none) per tile: SM clock, SMEM bank reads/writes, L2, DRAM,
# warp stall reasons.
#
# usage (repository root on the device): bash scripts/device_gemm_stage_probe.sh BIN
#   BIN: tilesim-gemm-bench. Everything goes into one tarball in $OUT.
set -uo pipefail
GEMM=${1:?tilesim-gemm-bench binary}
W=$(mktemp -d /tmp/stageprobe.XXXX)
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [[ -e $d/libcublas.so.13 ]] && export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}; done
R=$W/res; mkdir -p $R
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv > $R/env.txt 2>&1
cat $R/env.txt
ncu --version > $R/ncu_version.txt 2>&1
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z' | sed 's/nvidia//')
F=sm90_ws_256x128x64_s3_c2_cl1x2_r8,sm90_ws_256x128x64_s4_c2_cl1x2_r8,sm90_ws_256x128x64_s4_c2_cl1x1_r8,sm90_ws_256x128x64_s4_c2_cl2x1_r8,sm90_ws_128x256x64_s3_c2_cl2x1_r8,sm90_ws_128x256x64_s4_c2_cl2x1_r8,sm90_ws_128x256x64_s4_c2_cl1x1_r8,sm90_ws_128x256x64_s4_c2_cl1x2_r8
SHAPES="4096x4096x4096 1024x1024x32768 2048x2048x2048"
args=(); for s in $SHAPES; do IFS=x read -r m n k <<< "$s"; args+=(--shape "m=$m,n=$n,k=$k"); done
t0=$SECONDS
timeout 200 $GEMM --sweep "${args[@]}" --filter $F --out $R/${GPU}_stageprobe_sweep.json > $R/sweep.log 2>&1; echo "sweep rc=$? $((SECONDS-t0)) s"
M=gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,l1tex__data_bank_reads.avg.pct_of_peak_sustained_elapsed,\
l1tex__data_bank_writes.avg.pct_of_peak_sustained_elapsed,l1tex__data_bank_reads.sum,l1tex__data_bank_writes.sum,\
l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_requests_srcunit_tex_op_read.sum,\
lts__t_sector_op_read_hit_rate.pct,lts__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,dram__bytes_write.sum,\
dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.pct_of_peak_sustained_active,\
smsp__inst_executed.sum,launch__grid_size,launch__cluster_dim_x,launch__cluster_dim_y,\
regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio
for s in $SHAPES; do IFS=x read -r m n k <<< "$s"; t0=$SECONDS
  timeout 150 ncu --clock-control none --metrics "$M" -k regex:gemm_sm90_ws_kernel --csv --page raw \
    $GEMM --check --shape "m=$m,n=$n,k=$k" --filter $F > $R/ncu_$s.csv 2> $R/ncu_$s.err
  echo "ncu $s rc=$? $((SECONDS-t0)) s"
done
python3 scripts/ncu_probe_to_json.py $R > $R/${GPU}_stageprobe_ncu.json || echo "ncu_probe_to_json failed"
tar -C $R -czf ${OUT:-/tmp}/stageprobe.tgz .
python3 - "$R" <<'PY'
import json,glob,sys
R=sys.argv[1]
for f in glob.glob(R+'/*_stageprobe_sweep.json'):
    m=json.load(open(f))
    for r in m['runs']:
        if r.get('median_ms'): p=r['problem']; print('%-48s %5d %5d %6d %.4f ms %.0f TF' % ((r.get('config') or r.get('impl'))[:48], p['m'], p['n'], p['k'], r['median_ms'], r['tflops']))
try:
    d=json.load(open(glob.glob(R+'/*_stageprobe_ncu.json')[0]))
    for k in d['runs']:
        mm=k['metrics']; g=lambda n: mm.get(n,{}).get('value')
        print(k['problem']['m'], k['problem']['k'], k['kernel_function'][:70], 'rd', g('l1tex__data_bank_reads.avg.pct_of_peak_sustained_elapsed'), 'wr', g('l1tex__data_bank_writes.avg.pct_of_peak_sustained_elapsed'))
except Exception as e: print('summary failed', e)
PY
