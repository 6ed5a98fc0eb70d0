#!/usr/bin/env bash
# Where split-KV MLA or decode spends its time (training shapes only): the split kernel and
# the combine pass timed apart, and the split kernel's counters.
#   1. durations: ncu --cache-control none (the combine reads the partials the split kernel
#      just left in L2, as in a timed run) on the runners' --sweep of one shape (the
#      heuristic's split count; per config its check launch, 5 warm-up and 20 timed
#      launches, each followed by the L2 flush): per launch the kernel, its duration, grid,
#      SM clock, DRAM bytes and L2 hit rate.
#   2. counters: ncu's sections (as the held-out step) on the first split-kernel launch of
#      one config per process, written by ncu_to_json.py so that `tilesim validate`
#      compares them.
# usage (repository root on the device): [SKIP_DUR=1] [CTR_SHAPES_OVERRIDE="s1 s2 ..."]
#   bash scripts/device_splitkv_probe.sh mla|decode BIN
# Everything goes into one tarball in $OUT; a short table is printed last.
set -uo pipefail
FAMILY=${1:?mla or decode}
BIN=${2:?tilesim-mla-bench or tilesim-decode-bench binary}
case $FAMILY in
  mla)
    SPLIT_RE='mla_(heads|kv)_on_m_kernel'
    DUR_SHAPES="batch=1,heads_q=16,seq_kv=1024 batch=1,heads_q=16,seq_kv=16384 batch=1,heads_q=16,seq_kv=65536 batch=4,heads_q=16,seq_kv=16384 batch=16,heads_q=128,seq_kv=4096 batch=64,heads_q=128,seq_kv=4096"
    CTR_SHAPES="batch=1,heads_q=16,seq_kv=16384 batch=64,heads_q=128,seq_kv=4096 batch=4,heads_q=64,seq_kv=16384"
    CFGS="kv_on_m_bq16_bn64_st2 heads_on_m_bq64_bn64_st2 kv_on_m_bq64_bn64_st2" ;;
  decode)
    SPLIT_RE='decode_splitkv_kernel'
    DUR_SHAPES="batch=1,heads_q=8,heads_kv=1,seq_kv=65536,head_dim=128 batch=4,heads_q=16,heads_kv=2,q_per_seq=2,seq_kv=24576,head_dim=128 batch=8,heads_q=32,heads_kv=8,q_per_seq=8,seq_kv=8191,head_dim=128,page_size=64 batch=64,heads_q=32,heads_kv=8,seq_kv=4096,head_dim=128"
    CTR_SHAPES="batch=1,heads_q=8,heads_kv=1,seq_kv=65536,head_dim=128 batch=16,heads_q=32,heads_kv=32,seq_kv=8192,head_dim=128 batch=64,heads_q=32,heads_kv=8,seq_kv=4096,head_dim=128,page_size=64"
    CFGS="bn64_st3_mt1_contig bn64_st3_mt1_paged bn64_st3_mt1_contig_pf" ;;
  *) echo "family must be mla or decode, got '$FAMILY'" >&2; exit 2 ;;
esac
# Other shapes and configs (e.g. the held-out list's), SKIP_DUR=1 for counters only, and
# DUR_LAUNCHES: how many launches of each duration process ncu profiles (the default 12 is
# the first config's check and warm-up launches; a runner --sweep of one shape with its
# explicit split counts needs about 52 per split count: 26 split-kernel launches, 26 combine).
CTR_SHAPES=${CTR_SHAPES_OVERRIDE:-$CTR_SHAPES}
DUR_SHAPES=${DUR_SHAPES_OVERRIDE:-$DUR_SHAPES}
CFGS=${CFGS_OVERRIDE:-$CFGS}
DUR_LAUNCHES=${DUR_LAUNCHES:-12}
[[ ${SKIP_DUR:-0} == 1 ]] && DUR_SHAPES=""
W=$(mktemp -d /tmp/splitkv.XXXX)
R=$W/res; mkdir -p $R/dur $R/ctr
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv > $R/env.txt 2>&1
cat $R/env.txt
ncu --version > $R/ncu_version.txt 2>&1
cp $R/env.txt $R/ncu_version.txt $R/dur/; cp $R/env.txt $R/ncu_version.txt $R/ctr/
DUR="gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,launch__grid_size,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sector_hit_rate.pct"
KRE="regex:$SPLIT_RE|decode_combine_kernel"
pack() { tar -C $R -czf ${OUT:-/tmp}/splitkv_probe.tgz .; }
# One config per process and only its first launches profiled (-c): ncu's replay of every
# launch of a sweep takes minutes. The split kernel and its combine pass alternate.
i=0
for s in $DUR_SHAPES; do
  for f in $CFGS; do i=$((i+1)); t0=$SECONDS
    if (( SECONDS > ${DUR_DEADLINE_S:-240} )); then echo "dur $FAMILY $s $f skipped: deadline"; continue; fi
    # The shape and filter, for a process the timeout stops before the runner writes its JSON.
    echo "$s $f" > $R/dur/shape_${FAMILY}_$i.txt
    timeout ${DUR_TIMEOUT_S:-40} ncu --clock-control none --cache-control none --metrics "$DUR" -k "$KRE" -c $DUR_LAUNCHES --csv --page raw \
      $BIN --sweep --reps 20 --shape "$s" --filter $f --out $R/dur/run_${FAMILY}_$i.json > $R/dur/ncu_${FAMILY}_$i.csv 2> $R/dur/ncu_${FAMILY}_$i.err
    echo "dur $FAMILY $s $f rc=$? $((SECONDS-t0)) s"
  done
  pack
done
NCU="ncu --clock-control none --section SpeedOfLight --section ComputeWorkloadAnalysis --section SchedulerStats \
     --section WarpStateStats --section Occupancy --csv --page raw"
i=0
for s in $CTR_SHAPES; do
  for f in $CFGS; do i=$((i+1)); t0=$SECONDS
    if (( SECONDS > ${CTR_DEADLINE_S:-500} )); then echo "ctr $s $f skipped: deadline"; continue; fi
    timeout 45 $NCU -k "regex:$SPLIT_RE" -c 1 $BIN --sweep --reps 20 --shape "$s" --filter $f \
      --out $R/ctr/run_$i.json > $R/ctr/ncu_$i.csv 2> $R/ctr/ncu_$i.err
    echo "ctr $FAMILY $s $f rc=$? $((SECONDS-t0)) s"
    # A filter is a name part: decode's "..._contig" also selects "..._contig_pf", which the
    # sweep runs after it. -c 1 profiled the first config's first launch: keep its record.
    [[ -f $R/ctr/run_$i.json ]] && python3 - "$R/ctr/run_$i.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
first = [r for r in d["runs"] if r.get("impl") == "tilesim"][:1]
d["runs"] = [r for r in d["runs"] if r.get("impl") != "tilesim"] + first
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
  done
  pack
done
python3 scripts/ncu_to_json.py $R/ctr > $R/ctr/ncu.json 2> $R/ctr/ncu_to_json.err || echo "ncu_to_json failed"
pack
python3 scripts/splitkv_probe_to_json.py $R/dur > $R/dur/splitkv_probe.json && pack && python3 - "$R/dur/splitkv_probe.json" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["shapes"]:
    for c in s["configs"]:
        print("%-60s %-28s split %8.1f us  combine %s" % (json.dumps(s["problem"])[:60], c["variant"], c["split_median_ns"] / 1e3,
              "%.1f us" % (c["combine_median_ns"] / 1e3) if c["combine_median_ns"] else "-"))
PY
