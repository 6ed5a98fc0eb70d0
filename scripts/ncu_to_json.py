#!/usr/bin/env python3
"""Turns the held-out ncu step's output (ncu_<i>.csv from `ncu --csv --page raw` and the
runner's run_<i>.json of the same process) into one JSON of hardware counters per run:
the i-th profiled kernel of ncu_<i>.csv is the i-th tilesim run of run_<i>.json (the
runner's --check launches each config once, in that order). Keeps the counters the model
is judged against: per-pipe utilization, issue slots, eligible and active warps, stall
reasons, the SM and DRAM frequency, SOL throughputs. Writes JSON to stdout.
Of each counter only the per-unit average is kept (.avg; .max/.min/.sum repeat it per SM
or add it up) and ratios. `--prune FILE` applies the same selection to an earlier output
(deterministic: it only drops counters, and says so in the file).
Usage: ncu_to_json.py DIR | ncu_to_json.py --prune FILE"""
import csv
import glob
import json
import os
import re
import subprocess
import sys

KEEP = re.compile(r"^(sm__pipe_|sm__inst_executed_pipe_|sm__issue|smsp__issue|smsp__warps_|sm__warps_active|"
                  r"smsp__average_warps?_(latency_)?issue_stalled|smsp__average_warp_latency|gpc__cycles_elapsed|"
                  r"sm__cycles_elapsed|sm__cycles_active|sm__throughput|dram__throughput|dram__bytes|"
                  r"lts__t_|sm__inst_executed\.|smsp__inst_executed\.|launch__|dram__cycles_elapsed)")


DROP = re.compile(r"\.(max|min|sum)(\.|$)")


def kept(name):
    return KEEP.match(name) is not None and DROP.search(name) is None


def number(s):
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None


def read_csv(path, keep=kept):
    """The profiled kernels of one ncu --csv --page raw file, in launch order: each one's
    function name and the numeric metrics `keep` accepts, with their units."""
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]  # ncu's own log lines are not quoted
    rows = list(csv.reader(lines))
    if len(rows) < 3:
        return []
    names, units = rows[0], rows[1]
    out = []
    for r in rows[2:]:
        rec = {"kernel_function": r[names.index("Kernel Name")] if "Kernel Name" in names else "", "metrics": {}}
        for n, u, v in zip(names, units, r):
            if keep(n):
                x = number(v)
                if x is not None:
                    rec["metrics"][n] = {"value": x, "unit": u}
        out.append(rec)
    return out


def recorded_run(d):
    """What a device script wrote beside its ncu output: the ncu version (ncu_version.txt,
    the device's, not this machine's) and the device line (env.txt, nvidia-smi's CSV)."""
    vpath, env = os.path.join(d, "ncu_version.txt"), os.path.join(d, "env.txt")
    lines = open(vpath).read().strip().splitlines() if os.path.exists(vpath) else []
    return (lines[-1] if lines else "not recorded"), (open(env).read().strip() if os.path.exists(env) else None)


def prune(path):
    doc = json.load(open(path))
    for r in doc["runs"]:
        r["metrics"] = {k: v for k, v in r["metrics"].items() if kept(k)}
    doc["tool"]["pruned"] = "counters other than .avg and ratios dropped by scripts/ncu_to_json.py --prune"
    json.dump(doc, sys.stdout, indent=1)
    print()


def main():
    if sys.argv[1] == "--prune":
        return prune(sys.argv[2])
    d = sys.argv[1]
    try:
        ver = subprocess.run(["ncu", "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    except Exception as e:  # recorded, not hidden
        ver = "unknown (%s)" % e
    doc = {"schema": "tilesim.ncu.v1", "tool": {"name": "ncu", "version": ver,
           "options": "--clock-control none --section SpeedOfLight ComputeWorkloadAnalysis SchedulerStats "
                      "WarpStateStats Occupancy --csv --page raw"}, "runs": [], "problems": []}
    for csv_path in sorted(glob.glob(os.path.join(d, "ncu_*.csv")), key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0])):
        i = re.findall(r"\d+", os.path.basename(csv_path))[0]
        run_path = os.path.join(d, "run_%s.json" % i)
        prof = read_csv(csv_path)
        if not os.path.exists(run_path):
            doc["problems"].append("group %s: no runner JSON" % i)
            continue
        run_doc = json.load(open(run_path))
        runs = [r for r in run_doc["runs"] if r.get("impl") == "tilesim"]
        if "device" not in doc:
            doc["device"] = run_doc.get("device")
        if len(prof) != len(runs):
            doc["problems"].append("group %s: %d profiled kernels vs %d runner runs: skipped" % (i, len(prof), len(runs)))
            continue
        for r, p in zip(runs, prof):
            doc["runs"].append({"family": run_doc.get("family"), "schedule": r.get("schedule"),
                                "kernel": r.get("kernel") or r.get("config"), "tile": r.get("tile"),
                                "problem": r.get("problem"), "check_passed": r.get("check", {}).get("passed"),
                                "kernel_function": p["kernel_function"][:200], "metrics": p["metrics"]})
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
