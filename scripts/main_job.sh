#!/usr/bin/env bash
# What `scripts/run.sh` shows: the built-in GPUs side by side.
set -euo pipefail
tilesim="$1"
"$tilesim" gpus
