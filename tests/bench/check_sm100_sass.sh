#!/usr/bin/env bash
# The sm_100a microbenchmark binary must contain the instructions it claims to measure:
# tcgen05.mma as UTCHMMA (kind::f16/tf32) and UTCQMMA (kind::f8f6f4), both also in their
# .2CTA (cta_group::2) form, tensor-memory loads/stores (LDTM, STTM), the commit (UTCBAR),
# and the packed FMA (FFMA2). Exit 77 (CTest: skipped) when no cuobjdump is found.
# cuobjdump: $TILESIM_CUOBJDUMP, then <repo>/.tools/cuda/bin (scripts/setup.sh puts the
# nvidia-cuda-cuobjdump wheel there), then PATH, then /usr/local/cuda/bin.
set -euo pipefail
bin="$1"
here="$(cd "$(dirname "$0")/../.." && pwd)"
tool=""
for c in "${TILESIM_CUOBJDUMP:-}" "$here/.tools/cuda/bin/cuobjdump" "$(command -v cuobjdump || true)" /usr/local/cuda/bin/cuobjdump; do
  if [ -n "$c" ] && [ -x "$c" ]; then tool="$c"; break; fi
done
if [ -z "$tool" ]; then
  echo "skipped: no cuobjdump (run scripts/setup.sh, or set TILESIM_CUOBJDUMP)"
  exit 77
fi
sass="$("$tool" -sass "$bin")"
grep -q "sm_100a" <<<"$sass" || { echo "FAIL: no sm_100a code in $bin"; exit 1; }
fail=0
for op in 'UTCHMMA ' 'UTCHMMA\.2CTA' 'UTCQMMA ' 'UTCQMMA\.2CTA' 'LDTM\.' 'STTM\.' 'UTCBAR' 'FFMA2 '; do
  n=$(grep -cE "[[:space:]]${op}" <<<"$sass" || true)
  printf '%-14s %6s instructions\n' "${op//\\/}" "$n"
  [ "$n" -gt 0 ] || { echo "FAIL: ${op//\\/} missing from the SASS"; fail=1; }
done
# Hopper-only wgmma must not have leaked in.
if grep -qE '[[:space:]](HGMMA|QGMMA)' <<<"$sass"; then echo "FAIL: wgmma (HGMMA/QGMMA) in the sm_100a binary"; fail=1; fi
exit $fail
