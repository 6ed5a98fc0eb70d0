#!/usr/bin/env python3
"""Prints the per-shape table of a forward-attention device run: best tilesim FA3 and FA2
kernel (by median), cuDNN and torch flash (FA2) from the same call, FA3 as a share of
cuDNN by median time and by minimum time (the coolest-clock sample of each).
Usage: python3 summarize.py SWEEP_JSON TORCH_JSON [--markdown] [--all]
  --all  also print every kernel x shape (TFLOP/s) of the sweep, vendor rows last.
"""
import json
import sys


def key(p):
    return (p["batch"], p["heads_q"], p["seq_q"], p["head_dim"], p["causal"])


def label(k):
    b, h, s, d, c = k
    return "B%d H%d S%d D%d%s" % (b, h, s, d, " causal" if c else "")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    md = "--markdown" in sys.argv
    sweep = json.load(open(sys.argv[1]))
    torch = json.load(open(sys.argv[2]))
    rows = {}
    for r in sweep["runs"]:
        if "tflops" not in r:
            continue
        k = key(r["problem"])
        sched = r["schedule"]
        if not r["check"]["passed"]:
            continue
        cur = rows.setdefault(k, {}).get(sched)
        if cur is None or r["tflops"] > cur["tflops"]:
            rows[k][sched] = r
    for r in torch["runs"]:
        if "tflops" in r:
            rows.setdefault(key(r["problem"]), {})[r["impl"]] = r
    hdr = ["shape", "FA3 best (TFLOP/s)", "FA3 kernel", "FA2 best", "cuDNN", "torch flash", "FA3/cuDNN",
           "FA3/cuDNN (min times)"]
    out = []
    for k in sorted(rows):
        d = rows[k]
        f3, f2, cu, fl = (d.get(x) for x in ("attn_fa3", "attn_fa2", "cudnn", "torch_flash"))
        fmt = lambda r: "%.1f" % r["tflops"] if r else "-"
        ratio = "%.0f%%" % (100 * f3["tflops"] / cu["tflops"]) if f3 and cu else "-"
        ratio_min = "%.0f%%" % (100 * cu["min_ms"] / f3["min_ms"]) if f3 and cu else "-"
        out.append([label(k), fmt(f3), f3["kernel"] if f3 else "-", fmt(f2), fmt(cu), fmt(fl), ratio, ratio_min])
    if md:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for o in out:
            print("| " + " | ".join(o) + " |")
    else:
        w = [max(len(str(x[i])) for x in out + [hdr]) for i in range(len(hdr))]
        for o in [hdr] + out:
            print("  ".join(str(o[i]).ljust(w[i]) for i in range(len(hdr))))


def all_table(sweep, torch, md):
    shapes = []
    cells = {}
    for r in sweep["runs"] + torch["runs"]:
        if "tflops" not in r:
            continue
        k = key(r["problem"])
        if k not in shapes:
            shapes.append(k)
        name = r.get("kernel", r["impl"])
        ok = r["check"]["passed"]
        cells.setdefault(name, {})[k] = ("%.1f" % r["tflops"]) + ("" if ok else " FAIL")
    hdr = ["kernel"] + [label(k) for k in shapes]
    names = sorted(n for n in cells if n not in ("cudnn", "torch_flash")) + ["cudnn", "torch_flash"]
    rows = [[n] + [cells.get(n, {}).get(k, "-") for k in shapes] for n in names if n in cells]
    if md:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for o in rows:
            print("| " + " | ".join(o) + " |")
    else:
        w = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
        for o in [hdr] + rows:
            print("  ".join(o[i].ljust(w[i]) for i in range(len(hdr))))


if __name__ == "__main__":
    main()
    if "--all" in sys.argv:
        print()
        all_table(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), "--markdown" in sys.argv)
