#!/usr/bin/env python3
"""Groups to profile with ncu from a held-out sweep, one line per (family, shape):
"family shape kernels". attention: every config ("all"; the runner's --check runs each
once); gemm: the PER_SIDE fastest and slowest checked tilesim configs, comma-separated
(the runner's --filter). Shapes in the runners' --shape syntax (kernels/common/shape_args.hpp).
Usage: heldout_pick_ncu.py ATTENTION_SWEEP.json GEMM_SWEEP.json [--per-side 3]"""
import argparse
import json

KEYS = {"attention": ["batch", "heads_q", "heads_kv", "seq_q", "seq_kv", "head_dim", "causal"],
        "gemm": ["m", "n", "k"]}


def shape_arg(family, problem):
    return ",".join("%s=%d" % (k, int(problem[k])) for k in KEYS[family])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("attention_sweep")
    ap.add_argument("gemm_sweep")
    ap.add_argument("--per-side", type=int, default=3)
    a = ap.parse_args()
    for family, path in (("attention", a.attention_sweep), ("gemm", a.gemm_sweep)):
        runs = [r for r in json.load(open(path))["runs"]
                if r.get("impl") == "tilesim" and "median_ms" in r and r.get("check", {}).get("passed")]
        by_shape = {}
        for r in runs:
            name = r.get("kernel") or r.get("config")
            by_shape.setdefault(shape_arg(family, r["problem"]), {})[name] = r["median_ms"]
        for shape, kernels in sorted(by_shape.items()):
            if family == "attention":
                print(family, shape, "all")
                continue
            ranked = [n for n, _ in sorted(kernels.items(), key=lambda kv: kv[1])]
            picks = ranked[:a.per_side] + ranked[-a.per_side:] if len(ranked) > 2 * a.per_side else ranked
            print(family, shape, ",".join(dict.fromkeys(picks)))


if __name__ == "__main__":
    main()
