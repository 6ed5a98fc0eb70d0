#!/usr/bin/env python3
"""A short table of a held-out sweep directory: per family and shape, the best tilesim
config, its time, the vendor's time (cuBLAS / cuDNN) and the median NVML SM clock.
Usage: heldout_summary.py DIR"""
import json
import os
import statistics
import sys


def med_clock(r):
    per = r.get("nvml_per_pass") or ([r["nvml"]] if "nvml" in r else [])
    vals = [p["sm_mhz_median"] for p in per if isinstance(p, dict) and "sm_mhz_median" in p]
    return statistics.median(vals) if vals else float("nan")


def key(p):
    return ",".join("%s=%s" % (k, p[k]) for k in sorted(p) if k not in ("kind", "dtype", "head_dim_v"))


def main():
    d = sys.argv[1]
    for fam, files in (("attention", ["attention_sweep.json", "attention_torch_sdpa.json"]),
                       ("gemm", ["gemm_sweep.json"]), ("decode", ["decode_sweep.json"])):
        runs = []
        for f in files:
            p = os.path.join(d, f)
            if os.path.exists(p):
                runs += [r for r in json.load(open(p))["runs"] if "median_ms" in r and r.get("problem", {}).get("kind") == fam]
        shapes = {}
        for r in runs:
            shapes.setdefault(key(r["problem"]), []).append(r)
        print("%s: %d shapes, %d timed runs" % (fam, len(shapes), len(runs)))
        for k, rs in sorted(shapes.items()):
            ours = [r for r in rs if r["impl"] == "tilesim" and r.get("check", {}).get("passed")]
            vend = [r for r in rs if r["impl"] in ("cublas", "cudnn")]
            if not ours:
                print("  %-70s no passing tilesim run" % k)
                continue
            b = min(ours, key=lambda r: r["median_ms"])
            v = min(vend, key=lambda r: r["median_ms"]) if vend else None
            print("  %-70s best %-34s %9.4f ms  %5.0f MHz  vendor %s" % (
                k[:70], (b.get("kernel") or b.get("config") or b.get("variant", ""))[:34], b["median_ms"], med_clock(b),
                "%.4f ms (%.2fx)" % (v["median_ms"], v["median_ms"] / b["median_ms"]) if v else "-"))


if __name__ == "__main__":
    main()
