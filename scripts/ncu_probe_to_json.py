#!/usr/bin/env python3
"""Turns a probe's ncu output (ncu_<M>x<N>x<K>.csv or ncu_m=<M>,n=<N>,k=<K>.csv from
`ncu --metrics ... --csv --page raw`, one file per GEMM shape, several profiled kernels each)
into one JSON document: per profiled kernel the shape, the kernel function (its template
arguments name the tile), the launch order within the file (the runner runs a tile's split-K
variants in the order 1, 2, 4) and every requested metric with its unit (ncu_to_json.read_csv
reads the file; launch__* metrics carry the grid). The device line comes from env.txt
(nvidia-smi's CSV) and the ncu version from ncu_version.txt when present. Writes JSON to stdout.
Usage: ncu_probe_to_json.py DIR"""
import glob
import json
import os
import re
import sys

from ncu_to_json import read_csv, recorded_run

def probe_metric(name):
    """Every metric the probe asked for, with ncu's launch__* (grid and cluster shape)."""
    return "__" in name and not name.startswith("device__")


def profiled_kernels(path):
    kernels = read_csv(path, keep=probe_metric)
    for order, k in enumerate(kernels):
        k["order_in_file"] = order
        k["kernel_function"] = k["kernel_function"][:200]
    return kernels


def main():
    d = sys.argv[1]
    ver, device = recorded_run(d)
    doc = {"schema": "tilesim.ncu_probe.v1", "tool": {"name": "ncu", "version": ver, "options": "--clock-control none --metrics <list> --csv --page raw"},
           "device": device, "runs": []}
    for path in sorted(glob.glob(os.path.join(d, "ncu_*.csv"))):
        name = os.path.basename(path)
        dims = re.findall(r"(\d+)x(\d+)x(\d+)", name) or re.findall(r"m=(\d+),n=(\d+),k=(\d+)", name)
        m, n, k = (int(x) for x in dims[0])
        for p in profiled_kernels(path):
            p["problem"] = {"kind": "gemm", "m": m, "n": n, "k": k, "dtype": "bf16"}
            doc["runs"].append(p)
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
