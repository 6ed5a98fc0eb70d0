#!/usr/bin/env bash
# The held-out shapes (data/heldout/shapes.json) timed from a clean L2 (--l2-flush clean), to
# judge the model's clean-L2 predictions on shapes nothing was fitted on: every compiled
# decode config, the MLA and GEMM runners' compiled instances.
# usage (repository root on the device): bash scripts/device_l2_flush_heldout.sh DECODE_BIN MLA_BIN GEMM_BIN
# Everything goes into $OUT/l2flush_heldout.tgz; each runner's summary lines are printed last.
set -u
DEC=${1:?tilesim-decode-bench binary}
MLA=${2:?tilesim-mla-bench binary}
GEMM=${3:?tilesim-gemm-bench binary}
SHAPES=data/heldout/shapes.json
W=$(mktemp -d /tmp/l2ho.XXXX)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu --format=csv > $W/env.txt 2>&1
cat $W/env.txt
t0=$SECONDS; timeout 240 $DEC --sweep --shapes-file $SHAPES --l2-flush clean --out $W/decode_clean.json > $W/decode_clean.log 2>&1
echo "decode rc=$? $((SECONDS-t0)) s"
t0=$SECONDS; timeout 120 $MLA --sweep --shapes-file $SHAPES --l2-flush clean --out $W/mla_clean.json > $W/mla_clean.log 2>&1
echo "mla rc=$? $((SECONDS-t0)) s"
t0=$SECONDS; timeout 200 $GEMM --sweep --shapes-file $SHAPES --l2-flush clean --final-rounds 0 --out $W/gemm_clean.json > $W/gemm_clean.log 2>&1
echo "gemm rc=$? $((SECONDS-t0)) s"
tar -C $W -czf ${OUT:-/tmp}/l2flush_heldout.tgz .
tail -n 3 $W/decode_clean.log $W/mla_clean.log $W/gemm_clean.log
