#!/usr/bin/env bash
# Where MLA decode spends its time (training shapes only): the split kernel
# and the combine pass timed apart, and the split kernel's counters.
#   1. durations: ncu --cache-control none (the combine reads the partials the split kernel
#      just left in L2, as in a timed run) on the runners' --sweep of one shape (the
#      heuristic's split count; per config its check launch, 5 warm-up and 20 timed
#      launches, each followed by the L2 flush): per launch the kernel, its duration, grid,
#      SM clock, DRAM bytes and L2 hit rate.
#   2. counters: ncu's sections (as the held-out step) on the first split-kernel launch of
#      one config per process, written by ncu_to_json.py so that `tilesim validate`
#      compares them.
# usage (repository root on the device): bash scripts/device_splitkv_probe.sh MLA_BIN
# Everything goes into one tarball in $OUT; a short table is printed last.
set -uo pipefail
MLA=${1:?tilesim-mla-bench binary}
W=$(mktemp -d /tmp/splitkv.XXXX)
R=$W/res; mkdir -p $R/dur $R/ctr
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv > $R/env.txt 2>&1
cat $R/env.txt
ncu --version > $R/ncu_version.txt 2>&1
cp $R/env.txt $R/ncu_version.txt $R/dur/; cp $R/env.txt $R/ncu_version.txt $R/ctr/
DUR="gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,launch__grid_size,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sector_hit_rate.pct"
KRE='regex:mla_(heads|kv)_on_m_kernel|decode_combine_kernel'
MLA_SHAPES="batch=1,heads_q=16,seq_kv=1024 batch=1,heads_q=16,seq_kv=16384 batch=1,heads_q=16,seq_kv=65536 batch=4,heads_q=16,seq_kv=16384 batch=16,heads_q=128,seq_kv=4096 batch=64,heads_q=128,seq_kv=4096"
pack() { tar -C $R -czf ${OUT:-/tmp}/splitkv_probe.tgz .; }
# One config per process and only its first launches profiled (-c): ncu's replay of every
# launch of a sweep takes minutes. The split kernel and its combine pass alternate.
MLA_CFGS="kv_on_m_bq16_bn64_st2 heads_on_m_bq64_bn64_st2 kv_on_m_bq64_bn64_st2"
i=0
for s in $MLA_SHAPES; do
  for f in $MLA_CFGS; do i=$((i+1)); t0=$SECONDS
    if (( SECONDS > ${DUR_DEADLINE_S:-240} )); then echo "dur mla $s $f skipped: deadline"; continue; fi
    timeout 40 ncu --clock-control none --cache-control none --metrics "$DUR" -k "$KRE" -c 12 --csv --page raw \
      $MLA --sweep --reps 20 --shape "$s" --filter $f --out $R/dur/run_mla_$i.json > $R/dur/ncu_mla_$i.csv 2> $R/dur/ncu_mla_$i.err
    echo "dur mla $s $f rc=$? $((SECONDS-t0)) s"
  done
  pack
done
NCU="ncu --clock-control none --section SpeedOfLight --section ComputeWorkloadAnalysis --section SchedulerStats \
     --section WarpStateStats --section Occupancy --csv --page raw"
i=0
for s in batch=1,heads_q=16,seq_kv=16384 batch=64,heads_q=128,seq_kv=4096 batch=4,heads_q=64,seq_kv=16384; do
  for f in kv_on_m_bq16_bn64_st2 heads_on_m_bq64_bn64_st2 kv_on_m_bq64_bn64_st2; do i=$((i+1)); t0=$SECONDS
    if (( SECONDS > ${CTR_DEADLINE_S:-500} )); then echo "ctr $s $f skipped: deadline"; continue; fi
    timeout 45 $NCU -k 'regex:mla_(heads|kv)_on_m_kernel' -c 1 $MLA --sweep --reps 20 --shape "$s" --filter $f \
      --out $R/ctr/run_$i.json > $R/ctr/ncu_$i.csv 2> $R/ctr/ncu_$i.err
    echo "ctr mla $s $f rc=$? $((SECONDS-t0)) s"
  done
  pack
done
python3 scripts/ncu_to_json.py $R/ctr > $R/ctr/ncu.json 2> $R/ctr/ncu_to_json.err || echo "ncu_to_json failed"
pack
python3 - "$R/dur" <<'PY'
import collections, csv, glob, statistics, sys
D = sys.argv[1]
for path in sorted(glob.glob(D + "/ncu_*.csv")):
    rows = list(csv.reader([l for l in open(path) if l.startswith('"')]))
    if len(rows) < 3: print(path.split("/")[-1], "no rows"); continue
    h = rows[0]; g = lambda r, n: r[h.index(n)] if n in h else "0"
    dur = collections.defaultdict(list)
    for r in rows[2:]:
        dur[(g(r, "Kernel Name")[:60], g(r, "launch__grid_size"))].append(float(g(r, "gpu__time_duration.sum").replace(",", "")))
    print(path.split("/")[-1])
    for (k, grid), v in dur.items():
        print("  %-60s grid %6s  n %3d  median %9.0f ns" % (k, grid, len(v), statistics.median(v)))
PY
