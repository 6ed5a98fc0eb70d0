#!/usr/bin/env bash
# What the L2's dirty lines cost a memory-bound kernel: the training shapes of
# data/train/shapes_l2flush_2026-11-29.json timed after the sweeps' usual memset flush (its
# dirty lines left in the L2 for the timed kernel to evict) and after a clean flush (the
# memset, then a read of another buffer: written back before the launch), memset / clean /
# memset again, each a runner --sweep of its own.
# usage (repository root on the device): [SHAPES=file] [DEC_FILTER=a,b] bash scripts/device_l2_flush.sh DECODE_BIN GEMM_BIN [MLA_BIN]
# (a binary given as "-" is skipped; SHAPES: another training list, DEC_FILTER: the decode configs)
# Everything goes into $OUT/l2flush.tgz; a table of each shape's best median per mode is last.
set -u
DEC=${1:?tilesim-decode-bench binary}
GEMM=${2:?tilesim-gemm-bench binary}
MLA=${3:--}
SHAPES=${SHAPES:-data/train/shapes_l2flush_2026-11-29.json}
DEC_FILTER=${DEC_FILTER:-bn64_st4_mt1_contig,bn128_st3_mt1_contig}
W=$(mktemp -d /tmp/l2flush.XXXX)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv > $W/env.txt 2>&1
cat $W/env.txt
i=0
for mode in memset clean memset; do i=$((i+1))
  if [[ $DEC != - ]]; then t0=$SECONDS
    timeout 200 $DEC --sweep --shapes-file $SHAPES --l2-flush $mode --filter $DEC_FILTER \
      --out $W/decode_${i}_$mode.json > $W/decode_${i}_$mode.log 2>&1
    echo "decode $mode rc=$? $((SECONDS-t0)) s"
  fi
  if [[ $GEMM != - ]]; then t0=$SECONDS
    timeout 200 $GEMM --sweep --shapes-file $SHAPES --l2-flush $mode --final-rounds 0 \
      --out $W/gemm_${i}_$mode.json > $W/gemm_${i}_$mode.log 2>&1
    echo "gemm $mode rc=$? $((SECONDS-t0)) s"
  fi
  if [[ $MLA != - ]]; then t0=$SECONDS
    timeout 200 $MLA --sweep --shapes-file $SHAPES --l2-flush $mode --out $W/mla_${i}_$mode.json > $W/mla_${i}_$mode.log 2>&1
    echo "mla $mode rc=$? $((SECONDS-t0)) s"
  fi
done
tar -C $W -czf ${OUT:-/tmp}/l2flush.tgz .
python3 - $W <<'PY'
import glob, json, sys
best = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    tag = f.rsplit("/", 1)[1][:-5]
    for r in json.load(open(f))["runs"]:
        if "median_ms" not in r or r["problem"].get("kind") == "copy":
            continue
        p = r["problem"]
        shape = " ".join(f"{k}={p[k]}" for k in ("m", "n", "k", "batch", "heads_q", "seq_kv") if k in p)
        impl = "vendor" if r.get("impl") not in ("tilesim", None) else "tilesim"
        key = (tag.split("_")[0], shape, impl)
        best.setdefault(key, {})
        best[key][tag] = min(best[key].get(tag, 1e9), r["median_ms"] * 1e3)
for (fam, shape, impl), v in sorted(best.items()):
    print(f"{fam:7s} {impl:8s} {shape:34s} " + "  ".join(f"{t.split('_', 1)[1]}={us:8.1f}us" for t, us in sorted(v.items())))
PY
