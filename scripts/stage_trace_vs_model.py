#!/usr/bin/env python3
"""The model's gemm_sm90_ws / gemm_sm90_fp8 main loop against a measured stage trace.

  scripts/stage_trace_vs_model.py [--tilesim PATH] MEASUREMENT.json

Reads the runs of a tilesim-gemm-bench measurement that carry "stage_trace" (the runner's
--stage-trace: per-stage SM timestamps, kernels/common/stage_trace_summary.hpp) and asks
`tilesim predict --explain` for each (gpu from the file's device, schedule, tile, problem).
Prints, in SM cycles: the measured steady K step (median) against the model's iteration
(and its resource and dependency bounds), and the measured gap between two work items
(the consumer's epilogue and the next tile's first stage) against the model's epilogue;
then the SM clock the traced launch ran at (the CTAs' clock64 over %globaltimer, where the
trace has it) against the model's predicted clock and NVML's reading of the timed pass.
Analysis only: nothing is fitted or written."""
import argparse
import json
import re
import subprocess
import sys

GPUS = {"NVIDIA H100 80GB HBM3": "h100", "NVIDIA H200": "h200"}


def explain(tilesim, gpu, run):
    p = run["problem"]
    tile = ",".join(f"{k}={v}" for k, v in run["tile"].items())
    cmd = [tilesim, "predict", "--gpu", gpu, "gemm", "--m", str(p["m"]), "--n", str(p["n"]), "--k", str(p["k"]),
           "--dtype", p.get("dtype", "bf16"), "--schedule", run["schedule"], "--tile", tile, "--explain"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def grab(pattern):
        m = re.search(pattern, out, re.M)
        return float(m.group(1)) if m else float("nan")

    return {
        "iteration": grab(r"iteration = max\(resource, dependency\) = ([\d.]+)"),
        "resource": grab(r"resource bound: ([\d.]+)"),
        "dependency": grab(r"dependency bound: .*= ([\d.]+) cycles"),
        "epilogue": grab(r"epilogue ([\d.]+) cycles"),
        "time_us": grab(r"^time = .* = ([\d.]+) us$"),
        "clock_mhz": grab(r"predicted clock ([\d.]+) MHz"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("measurement")
    ap.add_argument("--tilesim", default="build/cpu/cli/tilesim")
    a = ap.parse_args()
    m = json.load(open(a.measurement))
    gpu = GPUS.get(m.get("device", {}).get("name", ""))
    if gpu is None:
        sys.exit(f"{a.measurement}: device {m.get('device', {}).get('name')!r} has no built-in profile")
    print(f"{'config':36} {'shape':16} {'step':>6} {'model':>6} {'res':>6} {'dep':>6} {'ratio':>6} | "
          f"{'gap':>6} {'epi':>6} | {'meas us':>8} {'model us':>8} | {'SM MHz':>6} {'model':>6} {'NVML':>6}")
    for r in m["runs"]:
        t = r.get("stage_trace")
        if not t:
            continue
        e = explain(a.tilesim, gpu, r)
        p = r["problem"]
        step = t["step_cycles"]["median"]
        gap = t["item_gap_cycles"]["median"] if t["item_gap_cycles"]["n"] else float("nan")
        print(f"{r['config'][:36]:36} {p['m']}x{p['n']}x{p['k']:<6} {step:6.0f} {e['iteration']:6.0f} "
              f"{e['resource']:6.0f} {e['dependency']:6.0f} {e['iteration'] / step:6.2f} | {gap:6.0f} "
              f"{e['epilogue']:6.0f} | {1000 * r['median_ms']:8.1f} {e['time_us']:8.1f} | "
              f"{t.get('sm_clock_mhz', {}).get('median', float('nan')):6.0f} {e['clock_mhz']:6.0f} "
              f"{(r.get('nvml') or {}).get('sm_mhz_median', float('nan')):6.0f}")


if __name__ == "__main__":
    main()
