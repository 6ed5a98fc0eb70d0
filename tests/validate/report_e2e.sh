#!/usr/bin/env bash
# `tilesim report` from the committed data (what CI runs, no GPU): every figure exists as
# PNG and SVG and is non-empty, the HTML embeds them, bad --out exits 1 leaving nothing.
# usage: report_e2e.sh <tilesim> <data dir>
set -u
TILESIM=$1 DATA=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

"$TILESIM" report --data "$DATA" --out "$TMP/no/such/dir" > /dev/null 2> "$TMP/err.txt"; rc=$?
[ $rc -eq 1 ] || fail "unwritable --out: exit $rc, want 1"
grep -q "does not exist" "$TMP/err.txt" || fail "unwritable --out: message: $(cat "$TMP/err.txt")"
[ ! -e "$TMP/no" ] || fail "something was created for a bad --out"
"$TILESIM" report --data "$TMP/nodata" --out "$TMP/r" > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "missing data: exit $rc, want 1"
[ ! -e "$TMP/r" ] || fail "report folder created for missing data"

"$TILESIM" report --data "$DATA" --out "$TMP/report" > "$TMP/out.txt" 2> "$TMP/err.txt"; rc=$?
[ $rc -eq 0 ] || fail "report: exit $rc: $(cat "$TMP/err.txt")"
grep -q "report: \[1/" "$TMP/err.txt" || fail "no progress lines on stderr"
html="$TMP/report/report.html"
[ -s "$html" ] || fail "no report.html"
# Every figure the report knows: roofline, utilization, counters (model vs ncu), gantt (when the simulator is
# built in), scatter, heatmap. Each must exist as a non-empty PNG and SVG.
figs="roofline utilization scatter counters heatmap"
if "$TILESIM" --help | grep -q "^  simulate "; then figs="$figs gantt_0"; fi
for f in $figs; do
  png="$TMP/report/figures/$f.png" svg="$TMP/report/figures/$f.svg"
  [ -s "$png" ] || fail "figure $f.png missing or empty"
  [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$f.png is not a PNG"
  [ "$(stat -c %s "$png")" -gt 5000 ] || fail "$f.png is suspiciously small"
  grep -q "<svg" "$svg" || fail "figure $f.svg missing or not SVG"
done
n=$(grep -o 'src="data:image/png;base64,' "$html" | wc -l)
[ "$n" -ge 4 ] || fail "report.html embeds $n figures, want >= 4"
grep -q 'src="http' "$html" && fail "report.html loads something from the network"
[ -s "$TMP/report/report_input.json" ] || fail "report_input.json not kept beside the report"
# The two implementations of the error figures agree: C++ (validate --json) and Python
# (the report's metrics.json) on the same data.
"$TILESIM" validate --data "$DATA" --json > "$TMP/v.json" 2>/dev/null || fail "validate --json"
python3 - "$TMP/v.json" "$TMP/report/metrics.json" <<'PY' || fail "C++ and Python error figures differ"
import json, sys
cpp = json.load(open(sys.argv[1]))["families"]
py = json.load(open(sys.argv[2]))["measured"]
for fam, c in cpp.items():
    if c["n"] == 0:
        continue
    p = py[fam]
    assert p["n"] == c["n"], (fam, p["n"], c["n"])
    assert abs(p["mape_pct"] - c["mape_pct"]) < 1e-6 * max(1.0, c["mape_pct"]), (fam, p["mape_pct"], c["mape_pct"])
    assert abs(p["max_error_pct"] - c["max_error_pct"]) < 1e-6 * max(1.0, c["max_error_pct"]), fam
    assert abs(p["median_signed_error_pct"] - c["median_signed_error_pct"]) < 1e-6 * max(1.0, abs(c["median_signed_error_pct"])), fam
    if c["spearman"] is not None:
        assert abs(p["spearman"] - c["spearman"]) < 1e-9, (fam, p["spearman"], c["spearman"])
    for key, cs in c["shapes"].items():
        assert abs(p["shapes"][key]["top_pick_regret_pct"] - cs["top_pick_regret_pct"]) < 1e-6, key
PY
echo "report_e2e: ok ($(echo $figs | wc -w) figures)"
