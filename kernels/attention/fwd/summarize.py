#!/usr/bin/env python3
"""Prints the per-shape table of a forward-attention device run: best tilesim FA3 and FA2
kernel (by median), cuDNN timed in the runner's process (cudnn_fe) and through torch
(cudnn), torch flash (FA2), FA3 as a share of cuDNN (in process where the sweep has it) by
median time and by minimum time (the coolest-clock sample of each).
Usage: python3 summarize.py SWEEP_JSON [TORCH_JSON] [--markdown] [--all]
  --all  also print every kernel x shape (TFLOP/s) of the sweep, vendor rows last.
"""
import json
import sys

VENDORS = ("cudnn_fe", "cudnn", "torch_flash")  # vendor impl names, in table order


def key(p):
    return (p["batch"], p["heads_q"], p["seq_q"], p["head_dim"], p["causal"])


def label(k):
    b, h, s, d, c = k
    return "B%d H%d S%d D%d%s" % (b, h, s, d, " causal" if c else "")


def load_inputs():
    """The sweep JSON and the torch JSON (no runs when it is not given)."""
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not 1 <= len(files) <= 2:
        sys.exit(__doc__)
    return json.load(open(files[0])), json.load(open(files[1])) if len(files) == 2 else {"runs": []}


def main():
    sweep, torch = load_inputs()
    md = "--markdown" in sys.argv
    rows = {}
    for r in sweep["runs"]:
        if "tflops" not in r:
            continue
        k = key(r["problem"])
        if r["impl"] != "tilesim":  # the vendor timed in the runner's process
            rows.setdefault(k, {})[r["impl"]] = r
            continue
        sched = r["schedule"]
        if not r["check"]["passed"]:
            continue
        cur = rows.setdefault(k, {}).get(sched)
        if cur is None or r["tflops"] > cur["tflops"]:
            rows[k][sched] = r
    for r in torch["runs"]:
        if "tflops" in r:
            rows.setdefault(key(r["problem"]), {})[r["impl"]] = r
    hdr = ["shape", "FA3 best (TFLOP/s)", "FA3 kernel", "FA2 best", "cuDNN in process", "cuDNN via torch",
           "torch flash", "FA3/cuDNN", "FA3/cuDNN (min times)"]
    out = []
    for k in sorted(rows):
        d = rows[k]
        f3, f2, cfe, ct, fl = (d.get(x) for x in ("attn_fa3", "attn_fa2") + VENDORS)
        cu = cfe or ct  # the ratio is against cuDNN in the same process where the sweep has it
        fmt = lambda r: "%.1f" % r["tflops"] if r else "-"
        ratio = "%.0f%%" % (100 * f3["tflops"] / cu["tflops"]) if f3 and cu else "-"
        ratio_min = "%.0f%%" % (100 * cu["min_ms"] / f3["min_ms"]) if f3 and cu else "-"
        out.append([label(k), fmt(f3), f3["kernel"] if f3 else "-", fmt(f2), fmt(cfe), fmt(ct), fmt(fl), ratio,
                    ratio_min])
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
    names = sorted(n for n in cells if n not in VENDORS) + list(VENDORS)
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
        all_table(*load_inputs(), "--markdown" in sys.argv)
