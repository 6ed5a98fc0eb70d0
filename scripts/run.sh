#!/usr/bin/env bash
# The main job: set up, build the CLI (CPU only, no GPU needed) and run it on the
# built-in GPU profiles.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
cmake --preset cpu >/dev/null
cmake --build --preset cpu --target tilesim >/dev/null
exec ./scripts/main_job.sh build/cpu/cli/tilesim
