#!/usr/bin/env python3
"""Short table from a tilesim-decode-bench --sweep JSON and a torch_decode_ref.py JSON.

Per shape: the best tilesim run (contiguous and paged), the split heuristic's pick for the
default tile, l2_prefetch on vs off (same tile, heuristic splits), cuDNN and torch flash;
GB/s of K+V bytes and the share of the device-to-device copy measured in the same run.
Usage: summarize_decode.py SWEEP.json [TORCH.json]
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        print(f"(cannot read {path}: {e})")
        return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sweep = load(sys.argv[1])
    torch_doc = load(sys.argv[2]) if len(sys.argv) > 2 else None
    if sweep is None:
        sys.exit(1)
    runs = sweep["runs"]
    copies = [r["gbps"] for r in runs if r["impl"] == "cuda_memcpy_d2d"]
    copy = max(copies) if copies else float("nan")
    dev = sweep["device"]
    print(f"device {dev['name']} | clocks before {dev['clocks']['raw']} | after "
          f"{sweep.get('clocks_after', {}).get('raw')}")
    print(f"D2D copy (read+write) GB/s: {', '.join(f'{c:.0f}' for c in copies)} -> ceiling {copy:.0f}")
    vendor = {}
    if torch_doc:
        for r in torch_doc["runs"]:
            if r["impl"] in ("cudnn", "torch_flash") and "gbps" in r:
                vendor[(r["shape_name"], r["impl"])] = r
        tc = [r["gbps"] for r in torch_doc["runs"] if r["impl"] == "torch_copy_d2d"]
        if tc:
            print(f"torch D2D copy GB/s: {tc[0]:.0f}")
    shapes = []
    for r in runs:
        if r["impl"] == "tilesim" and r["shape_name"] not in shapes:
            shapes.append(r["shape_name"])
    fails = sum(1 for r in runs if r["impl"] == "tilesim" and not r["check"]["passed"])
    print(f"tilesim runs: {sum(1 for r in runs if r['impl'] == 'tilesim')}, check failures: {fails}")
    hdr = f"{'shape':30s} {'what':34s} {'us':>8s} {'GB/s':>6s} {'%copy':>6s}"
    print(hdr)
    print("-" * len(hdr))

    def line(shape, what, r):
        if r is None:
            print(f"{shape:30s} {what:34s} {'-':>8s}")
            return
        g = r["gbps"]
        print(f"{shape:30s} {what:34s} {r['median_ms'] * 1e3:8.1f} {g:6.0f} {100 * g / copy:6.1f}")

    for s in shapes:
        rs = [r for r in runs if r["impl"] == "tilesim" and r["shape_name"] == s and "gbps" in r]
        contig = [r for r in rs if r["problem"]["page_size"] == 0]
        paged = [r for r in rs if r["problem"]["page_size"] != 0]
        if contig:
            b = max(contig, key=lambda r: r["gbps"])
            line(s, f"best contig {b['variant']} s{b['tile']['splits']}"[:34], b)
        heur = [r for r in contig if r["splits_from_heuristic"] and r["tile"]["block_n"] == 64
                and r["tile"]["stages"] == 3 and not r["tile"]["l2_prefetch"]]
        if heur:
            line(s, f"heuristic bn64 st3 s{heur[0]['tile']['splits']}", heur[0])
        pf = [r for r in contig if r["splits_from_heuristic"] and r["tile"]["l2_prefetch"]]
        if pf:
            b = max(pf, key=lambda r: r["gbps"])
            line(s, f"best l2_prefetch {b['variant']}"[:34], b)
        if paged:
            b = max(paged, key=lambda r: r["gbps"])
            line(s, f"best paged ps{b['problem']['page_size']} {b['variant']}"[:34], b)
        for impl in ("cudnn", "torch_flash"):
            v = vendor.get((s, impl))
            if v:
                line(s, f"{impl} ({v.get('gqa')})", v)


if __name__ == "__main__":
    main()
