#!/usr/bin/env python3
"""Turns the duration pass of scripts/device_splitkv_probe.sh (dur/ncu_<mla|dec>_<i>.csv from
`ncu --cache-control none --metrics ... --csv --page raw` over a runner's --sweep of one
shape, and the runner's run_<mla|dec>_<i>.json of the same process) into one JSON document:
per shape and config, every profiled launch of the split kernel with the combine pass that
followed it (decode_combine_kernel, launched after the split kernel on the same stream when
splits > 1), and the medians. The configs are told apart by the kernel's template arguments;
the runner's record of the config (tile, splits, problem) is matched by launch order (the
sweep runs its configs one after another; two split counts of one kernel differ in grid size).
Writes JSON to stdout.
Usage: splitkv_probe_to_json.py DIR"""
import glob
import json
import os
import re
import statistics
import sys

from ncu_to_json import read_csv, recorded_run


def wanted(name):
    return name.startswith(("gpu__time_duration", "sm__cycles_elapsed", "launch__grid_size", "launch__registers_per_thread",
                            "dram__bytes", "lts__t_sector_hit"))


def value(k, name):
    m = k["metrics"].get(name)
    return m["value"] if m else None


def launches(kernels):
    """Split-kernel launches, each with the combine launch that follows it (or None)."""
    out = []
    for k in kernels:
        if "decode_combine_kernel" in k["kernel_function"]:
            if out and out[-1]["combine"] is None:
                out[-1]["combine"] = k
            continue
        out.append({"split": k, "combine": None})
    return out


def summary(group):
    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None
    def of(kernel, metric):
        return med([value(l[kernel], metric) for l in group if l[kernel]])
    comb = group[0]["combine"]
    return {"launches": len(group), "split_median_ns": of("split", "gpu__time_duration.sum"),
            "combine_median_ns": of("combine", "gpu__time_duration.sum"),
            "split_grid": value(group[0]["split"], "launch__grid_size"),
            "combine_grid": value(comb, "launch__grid_size") if comb else None,
            "combine_registers_per_thread": value(comb, "launch__registers_per_thread") if comb else None,
            "split_sm_hz_median": of("split", "sm__cycles_elapsed.avg.per_second"),
            "combine_sm_hz_median": of("combine", "sm__cycles_elapsed.avg.per_second"),
            "split_dram_read_bytes_median": of("split", "dram__bytes_read.sum"),
            "combine_dram_read_bytes_median": of("combine", "dram__bytes_read.sum"),
            "combine_l2_hit_rate_pct_median": of("combine", "lts__t_sector_hit_rate.pct")}


def shape_of(text):
    """'batch=4,heads_q=16,... filter' (the probe's shape file) -> {problem, filter}."""
    spec, filt = text.split()
    problem = {k: int(v) for k, v in (kv.split("=") for kv in spec.split(","))}
    return {"problem": problem, "filter": filt}


def main():
    d = sys.argv[1]
    ver, device = recorded_run(d)
    doc = {"schema": "tilesim.splitkv_probe.v1",
           "tool": {"name": "ncu", "version": ver,
                    "options": "--clock-control none --cache-control none --metrics <list> --csv --page raw"},
           "device": device, "shapes": []}
    for path in sorted(glob.glob(os.path.join(d, "ncu_*.csv"))):
        tag = re.findall(r"ncu_(\w+?)_(\d+)\.csv", os.path.basename(path))[0]
        run_path = os.path.join(d, "run_%s_%s.json" % tag)
        shape_path = os.path.join(d, "shape_%s_%s.txt" % tag)
        if os.path.exists(run_path):
            runs = [r for r in json.load(open(run_path))["runs"] if r.get("impl") == "tilesim"]
            shape = None
        elif os.path.exists(shape_path):
            # The process was stopped (timeout) before the runner wrote its record: the launches
            # ncu profiled until then stand, their configs told by grid size.
            runs = []
            shape = shape_of(open(shape_path).read())
        else:
            continue
        groups = {}
        for l in launches(read_csv(path, keep=wanted)):
            key = (l["split"]["kernel_function"][:160], value(l["split"], "launch__grid_size"))
            groups.setdefault(key, []).append(l)
        configs = []
        for i, ((fn, grid), group) in enumerate(groups.items()):
            rec = runs[i] if i < len(runs) else {}
            if shape is not None and tag[0] != "mla" and grid:
                # decode_splitkv's grid is (splits, heads_kv, batch).
                p = shape["problem"]
                rec = {"tile": {"splits": int(grid) // (p["batch"] * p.get("heads_kv", p["heads_q"]))},
                       "variant": shape["filter"] + " (splits from the grid: no runner record)"}
            configs.append({"kernel_function": fn, "tile": rec.get("tile"), "variant": rec.get("variant") or rec.get("kernel"),
                            "timed_median_ms": rec.get("median_ms"), **summary(group),
                            "launch_ns": [[value(l["split"], "gpu__time_duration.sum"),
                                           value(l["combine"], "gpu__time_duration.sum") if l["combine"] else None] for l in group]})
        problem = runs[0].get("problem") if runs else (shape["problem"] if shape else None)
        if configs:  # a filter no compiled instance of the shape matched profiles nothing
            doc["shapes"].append({"family": "mla" if tag[0] == "mla" else "decode", "problem": problem, "configs": configs})
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
