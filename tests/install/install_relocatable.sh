#!/usr/bin/env bash
# Relocatable install: `cmake --install` into a temporary prefix, move the prefix, and run
# tune, validate and report from there, in another directory, with the source and build
# trees hidden from the binary's point of view (no TILESIM_DATA_DIR, nothing baked in).
# usage: install_relocatable.sh <build dir>
set -u
BUILD=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
unset TILESIM_DATA_DIR

cmake --install "$BUILD" --prefix "$TMP/first" > "$TMP/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$TMP/install.log")"
mv "$TMP/first" "$TMP/moved"
P="$TMP/moved"
[ -x "$P/bin/tilesim" ] || fail "no bin/tilesim"
for f in data/profiles/h100.json data/model/constants.json analysis/tilesim_analysis/report.py \
         scripts/torch_sdpa_ref.py scripts/torch_decode_ref.py; do
  [ -f "$P/share/tilesim/$f" ] || fail "share/tilesim/$f not installed"
done
# The runners are installed beside tilesim when CUDA is on.
if [ -e "$BUILD/kernels" ]; then
  for r in tilesim-gemm-bench tilesim-attn-bench tilesim-decode-bench; do
    [ -x "$P/bin/$r" ] || fail "bin/$r not installed"
  done
  "$P/bin/tilesim-attn-bench" --list --json > "$TMP/list.json" || fail "installed runner --list --json"
fi

mkdir "$TMP/elsewhere" && cd "$TMP/elsewhere" || fail "cd"
"$P/bin/tilesim" tune --gpu h100 gemm --m 4096 --n 4096 --k 4096 --top 3 > tune.txt 2>&1 || fail "tune: $(cat tune.txt)"
grep -q "gemm_sm90_ws" tune.txt || fail "tune output: $(cat tune.txt)"
"$P/bin/tilesim" validate --json > validate.json 2> validate.err || fail "validate: $(cat validate.err)"
python3 -c "import json,sys; d=json.load(open('validate.json')); assert d['data_dir'].startswith('$P/share/tilesim'), d['data_dir']; assert len(d['runs']) > 100" \
  || fail "validate did not read the installed data"
"$P/bin/tilesim" report --out rep > report.out 2> report.err || fail "report: $(tail -5 report.err)"
[ -s rep/report.html ] || fail "no report.html"

# TILESIM_DATA_DIR overrides the location; a wrong one is a clear error (exit 1).
TILESIM_DATA_DIR="$TMP/nowhere" "$P/bin/tilesim" validate > /dev/null 2> bad.err; rc=$?
[ $rc -eq 1 ] || fail "bad TILESIM_DATA_DIR: exit $rc, want 1"
grep -q "TILESIM_DATA_DIR" bad.err || fail "bad TILESIM_DATA_DIR message: $(cat bad.err)"
TILESIM_DATA_DIR="$P/share/tilesim" "$P/bin/tilesim" validate > /dev/null 2>&1 || fail "validate with TILESIM_DATA_DIR"
# A binary with no share/tilesim around it says where it looked.
mkdir -p "$TMP/lonely/bin" && cp "$P/bin/tilesim" "$TMP/lonely/bin/"
"$TMP/lonely/bin/tilesim" validate > /dev/null 2> lonely.err; rc=$?
[ $rc -eq 1 ] || fail "no data folder: exit $rc, want 1"
grep -q "share/tilesim" lonely.err || fail "no data folder message: $(cat lonely.err)"
"$TMP/lonely/bin/tilesim" tune --gpu h100 gemm --m 256 --n 256 --k 256 --top 1 > /dev/null 2>&1 \
  || fail "tune needs no data folder (profiles and constants are embedded)"
echo "install_relocatable: ok"
