#!/usr/bin/env bash
# Where decode_splitkv's warps spend their time, per SASS instruction: ncu's source counters
# (PC sampling: warp-stall samples, executed instructions) on one launch of the split kernel
# for four training shapes (q_per_seq 1 / 2 / 8; 4 and 32 splits). The model's decode
# epilogue and Q-trip instruction counts and its per-instruction spacing at one and two
# CTAs per SM were read from these (data/measurements/logs/2026-11-28_h200_decode_pc_sampling.json.xz).
# usage (repository root on the device): bash scripts/device_decode_pc_sampling.sh BIN
# BIN: tilesim-decode-bench. Everything goes into $OUT/pcs.tgz.
set -u
B=${1:?tilesim-decode-bench binary}
W=$(mktemp -d /tmp/pcs.XXXX)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw --format=csv > $W/env.txt
# tag, shape, variant filter, launches of the split kernel to skip: the sweep of one --shape
# runs the heuristic split count first, then 1, 2, 4, 8, 16, 32 (the heuristic's left out),
# each config 26 launches (its check, 5 warm-up, 20 timed).
run() {
  timeout 150 ncu --clock-control none --section SourceCounters --section WarpStateStats --section SchedulerStats \
    --section SpeedOfLight --section MemoryWorkloadAnalysis -k regex:decode_splitkv_kernel --launch-skip $4 -c 1 -o $W/$1 \
    $B --sweep --reps 20 --shape "$2" --filter $3 --out $W/$1_run.json > $W/$1.log 2>&1
  echo "$1 rc=$?"
  ncu -i $W/$1.ncu-rep --page source --csv --print-source sass > $W/$1_source.csv 2> $W/$1_source.err
  ncu -i $W/$1.ncu-rep --page raw --csv > $W/$1_raw.csv 2>/dev/null
}
run q8s32 batch=8,heads_q=32,heads_kv=8,q_per_seq=8,seq_kv=8191,head_dim=128 bn64_st3_mt2_contig 130
run q8s4 batch=8,heads_q=32,heads_kv=8,q_per_seq=8,seq_kv=8191,head_dim=128 bn64_st3_mt2_contig 0
run q2s32 batch=4,heads_q=16,heads_kv=2,q_per_seq=2,seq_kv=24576,head_dim=128 bn64_st3_mt1_contig 0
run q1s32 batch=8,heads_q=32,heads_kv=8,seq_kv=32768,head_dim=128 bn64_st3_mt1_contig 130
# 134 MB and 537 MB of KV on 128 CTAs (training shapes of data/train/): 4 splits is the
# fourth config of the first (heuristic 8 first), 2 splits the third of the second.
run v134s4 batch=16,heads_q=16,heads_kv=2,q_per_seq=2,seq_kv=8192,head_dim=128 bn64_st3_mt1_contig 78
run v537s2 batch=8,heads_q=32,heads_kv=8,q_per_seq=4,seq_kv=16381,head_dim=128 bn64_st3_mt1_contig 52
tar -C $W -czf ${OUT:-/tmp}/pcs.tgz .
