#!/usr/bin/env bash
# `tilesim validate` end to end: exit codes and output, as a user sees them.
# usage: validate_cli.sh <tilesim> <committed data dir> <fixture data dir>
set -u
TILESIM=$1 DATA=$2 FIXTURE=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

"$TILESIM" validate --data "$FIXTURE" > "$TMP/out.txt" 2> "$TMP/err.txt"; rc=$?
[ $rc -eq 0 ] || fail "validate on the fixture: exit $rc: $(cat "$TMP/err.txt")"
grep -q "MAPE" "$TMP/out.txt" || fail "no MAPE column in the table"
grep -q "^gemm" "$TMP/out.txt" || fail "no gemm row"

"$TILESIM" validate --data "$FIXTURE" --json > "$TMP/v.json" || fail "--json exit $?"
python3 - "$TMP/v.json" <<'PY' || fail "--json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "tilesim.validation.v1"
assert set(d["families"]) == {"gemm", "attention"}, d["families"].keys()
assert len(d["runs"]) == 24
assert sum(1 for r in d["runs"] if r["status"] == "vendor") == 2
PY

"$TILESIM" validate --data /nonexistent/tilesim > /dev/null 2> "$TMP/err.txt"; rc=$?
[ $rc -eq 1 ] || fail "missing data dir: exit $rc, want 1"
grep -q "does not exist" "$TMP/err.txt" || fail "missing data dir: message: $(cat "$TMP/err.txt")"

"$TILESIM" validate --family nope > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bad --family: exit $rc, want 2"
"$TILESIM" validate --write-baseline "$TMP/b.json" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--write-baseline without --note: exit $rc, want 2"
[ ! -e "$TMP/b.json" ] || fail "a baseline was written without a note"

# A baseline written from the fixture passes its own gate; a stricter one fails it.
"$TILESIM" validate --data "$FIXTURE" --write-baseline "$TMP/b.json" --note "test" > /dev/null 2>&1 || fail "write-baseline"
"$TILESIM" validate --data "$FIXTURE" --check --baseline "$TMP/b.json" > /dev/null 2>&1 || fail "gate vs own baseline"
python3 - "$TMP/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["families"].values():
    f["mape_pct"] = max(0.0, f["mape_pct"] - 1.0)
json.dump(d, open(sys.argv[1], "w"))
PY
"$TILESIM" validate --data "$FIXTURE" --check --baseline "$TMP/b.json" > "$TMP/out.txt" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "gate vs a stricter baseline: exit $rc, want 1"
grep -q "worse than the baseline" "$TMP/out.txt" || fail "gate message"

# The committed data: the table prints (the gate itself is the AccuracyGate GoogleTest).
"$TILESIM" validate --data "$DATA" > "$TMP/out.txt" 2>&1 || fail "validate on committed data: $(cat "$TMP/out.txt")"

# Writing constants to a folder that does not exist: exit 1, nothing written.
"$TILESIM" validate --data "$FIXTURE" --calibrate --write-constants /nonexistent/c.json > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "unwritable --write-constants: exit $rc, want 1"
# --run without a GPU: a clear error, exit 1 (on a GPU machine this would run the sweeps,
# so it is only checked where there is none).
if ! nvidia-smi -L > /dev/null 2>&1; then
  "$TILESIM" validate --run --data "$TMP" > /dev/null 2> "$TMP/err.txt"; rc=$?
  [ $rc -eq 1 ] || fail "--run without GPU: exit $rc, want 1"
  grep -q "needs a GPU" "$TMP/err.txt" || fail "--run without GPU: message: $(cat "$TMP/err.txt")"
fi
# The published view: every committed published result, predicted or kept with a reason.
"$TILESIM" validate --published --data "$DATA" --json > "$TMP/p.json" 2> "$TMP/err.txt" ||
  fail "--published: exit $?: $(cat "$TMP/err.txt")"
python3 - "$TMP/p.json" "$DATA/published/published_results.json" <<'PY' || fail "--published --json content"
import json, sys
d, src = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d["schema"] == "tilesim.validation_published.v1"
assert len(d["records"]) == len(src["entries"])  # nothing dropped
for r, e in zip(d["records"], src["entries"]):
    assert r["id"] == e["id"] and r["measured_us"] == e["time_us"]
    if "not_predicted" in e:  # kept for the record, never given a made-up prediction
        assert r["predicted_us"] is None and r["reason"] == e["not_predicted"]
    elif r["predicted_us"] is not None:
        want = 100 * (r["predicted_us"] - e["time_us"]) / e["time_us"]
        assert abs(r["error_pct"] - want) < 1e-6, (r["id"], r["error_pct"], want)
    if "model_gpu" in e:
        assert r["model_gpu"] == e["model_gpu"]
    if r["predicted_us"] is not None:
        # The kernel's own tile where the entry gives one (read from its source), else tune's.
        if "model_tile" in e:
            got = dict(kv.split("=") for kv in r["model_tile"].split(" ", 1)[1].split(","))
            for key, val in e["model_tile"].items():
                assert float(got[key]) == float(val), (r["id"], key, got.get(key), val)
            assert r["tile_choice"].startswith("the kernel's own"), r["tile_choice"]
        else:
            assert r["tile_choice"] == "best tile of tune", r["tile_choice"]
        # Every source says how it timed; a figure without a launch is compared without one.
        timing = src["sources"][e["source"]]["timing"]
        assert ("launch_excluded_us" in r) == (timing["launch_included"] is False), r["id"]
        if "launch_excluded_us" in r:
            assert r["launch_excluded_us"] > 0, r["id"]
for gpu, s in d["summary"].items():
    errs = [abs(r["error_pct"]) for r in d["records"] if r["gpu"] == gpu and r.get("error_pct") is not None]
    assert s["n"] == len(errs)
    if errs:
        assert abs(s["mape_pct"] - sum(errs) / len(errs)) < 1e-9 and abs(s["max_abs_error_pct"] - max(errs)) < 1e-9
    # The per-source lines split the GPU's figures by the entry's source.
    by_src = d["summary_by_source"][gpu]
    assert sum(t["n"] for t in by_src.values()) == s["n"], gpu
    for sid, t in by_src.items():
        errs = [abs(r["error_pct"]) for r in d["records"]
                if r["gpu"] == gpu and r["source"].split(" ")[0] == sid and r.get("error_pct") is not None]
        assert t["n"] == len(errs), (gpu, sid)
        if errs:
            assert abs(t["mape_pct"] - sum(errs) / len(errs)) < 1e-9, (gpu, sid)
PY
"$TILESIM" validate --published --data "$DATA" > "$TMP/out.txt" 2>&1 || fail "--published table"
grep -q "^b200 *n=" "$TMP/out.txt" || fail "--published: no per-GPU summary: $(tail -5 "$TMP/out.txt")"
grep -q "no backward" "$TMP/out.txt" || fail "--published: unpredicted entries must say why"
"$TILESIM" validate --published --check > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--published --check: exit $rc, want 2 (a view of its own)"
echo "validate_cli: ok"
