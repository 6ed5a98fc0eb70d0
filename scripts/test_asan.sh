#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset:
# clang, -O1, CPU only, no benchmarks), the fuzz harnesses' corpus replays included. Any
# sanitizer report aborts its test, so CTest fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
cmake --preset asan
cmake --build --preset asan
# install_relocatable checks the install layout (cmake --install, a moved tree), which the
# Release run already covers; under the sanitizers it only costs time.
ctest --preset asan -j "$(nproc)" -E '^install_relocatable$'
