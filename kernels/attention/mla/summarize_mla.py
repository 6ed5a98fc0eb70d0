#!/usr/bin/env python3
"""Short table from tilesim-mla-bench sweep JSONs (and optionally torch_mla_ref.py's JSON).

Per shape: both layouts' time, GB/s and % of the D2D copy measured in the same file, the
KV-on-M / heads-on-M speed ratio and torch SDPA's best time where it ran.
Usage: summarize_mla.py sweep.json [more sweep JSONs...] [--torch torch.json]
"""
import json
import sys


def main():
    args = sys.argv[1:]
    torch_file = None
    if "--torch" in args:
        i = args.index("--torch")
        torch_file = args[i + 1]
        del args[i:i + 2]
    if not args:
        sys.exit(__doc__)
    torch_best = {}
    if torch_file:
        for r in json.load(open(torch_file))["runs"]:
            if r.get("median_ms") is not None and r["problem"].get("kind") == "mla":
                k = r["shape_name"]
                torch_best[k] = min(torch_best.get(k, 1e30), r["median_ms"])
    print(f"{'shape':26s} {'layout':22s} {'splits':>6s} {'us':>9s} {'GB/s':>7s} {'%copy':>6s} {'kv/heads':>8s} {'torch us':>9s}")
    for path in args:
        doc = json.load(open(path))
        copies = [r["gbps"] for r in doc["runs"] if r.get("impl") == "cuda_memcpy_d2d"]
        copy = max(copies) if copies else 0.0
        by_shape = {}
        for r in doc["runs"]:
            if r.get("impl") != "tilesim" or "median_ms" not in r:
                continue
            by_shape.setdefault(r["shape_name"], {})[r["tile"]["kv_on_m"]] = r
        for name, runs in by_shape.items():
            ratio = ""
            if 0 in runs and 1 in runs:
                ratio = f"{runs[0]['median_ms'] / runs[1]['median_ms']:.2f}"
            for kv_on_m in sorted(runs):
                r = runs[kv_on_m]
                t = torch_best.get(name)
                print(f"{name:26s} {r['variant']:22s} {r['tile']['splits']:6d} {r['median_ms'] * 1e3:9.1f} "
                      f"{r['gbps']:7.0f} {100 * r['gbps'] / copy if copy else 0:6.1f} {ratio if kv_on_m else '':>8s} "
                      f"{'' if t is None else f'{t * 1e3:9.1f}':>9s}")
        print(f"# {path}: D2D copy {copy:.0f} GB/s (read+write)")


if __name__ == "__main__":
    main()
