#!/usr/bin/env bash
# What `scripts/run.sh` shows: the built-in GPUs, then the same attention problem tuned
# side by side on H100, H20 and B200 by the analytic model (which tile wins, which unit
# binds, and why), on the built-in profiles: no GPU needed.
set -euo pipefail
tilesim="$1"
"$tilesim" gpus
echo
"$tilesim" tune --gpu h100,h20,b200 attention --batch 4 --heads-q 16 --seq-q 8192 --head-dim 128 --top 3
