#!/usr/bin/env python3
"""Measured vs predicted layer-step gain.

For every configuration of the given layer_step measurement files (tilesim-layer-bench
--out), the measured gain of each prefetch step over the plain step of the same file,
(step - step_pf) / step, next to the sequence model's prediction (`tilesim predict
--sequence`, same problem and tile). Training configurations (m=1024, n=k=4096: the five
the prefetch constants were measured on) are marked; the rest are held out.

  kernels/layer_step/summarize_layer_step.py --tilesim build/cpu/cli/tilesim \
      data/measurements/layer_step/2026-11-27_h100_*.json [--gpus h200,h20]

--gpus: also print the model's gain for the same steps on other chips (no measurement).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def is_train(p):
    return p["m"] == 1024 and p["n"] == 4096 and p["k"] == 4096


def gpu_of(device_name):
    up = device_name.upper()
    for token, gid in (("H200", "h200"), ("H100", "h100"), ("H20", "h20")):
        if token in up:
            return gid
    return None


def predict(tilesim, gpu, run):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"problem": run["problem"], "tile": run["tile"]}, f)
        path = f.name
    try:
        out = subprocess.run([tilesim, "predict", "--gpu", gpu, "--sequence", path, "--json"],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tilesim", required=True)
    ap.add_argument("--gpus", default="")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rows = []
    for path in a.files:
        doc = json.load(open(path))
        if doc.get("family") != "layer_step":
            sys.exit(f"{path}: not a layer_step measurement file")
        gpu = gpu_of(doc["device"]["name"])
        by = {}
        for r in doc["runs"]:
            by.setdefault(r["config_name"], {})[r["variant"]] = r
        tag = os.path.basename(path).split("_", 2)[-1].replace(".json", "")
        for name, v in by.items():
            if "step" not in v:
                continue
            step = v["step"]["median_ms"] * 1e3
            # in_gemm files (--prefetch in_gemm): step_pf_last is the in-GEMM prefetch, paced
            # and side are beside it; the tile's prefetch_launch tells them apart.
            for pf in ("step_pf_last", "step_pf_normal", "step_pf_paced", "step_pf_side"):
                if pf not in v:
                    continue
                run = v[pf]
                pr = predict(a.tilesim, gpu, run)
                meas = (step - run["median_ms"] * 1e3) / step * 100
                rows.append({
                    "file": tag, "config": name, "pf": pf.replace("step_pf_", ""),
                    "launch": run["tile"].get("prefetch_launch", "side"),
                    "kv_mb": run["kv_bytes"] / 1e6, "split": "train" if is_train(run["problem"]) else "held-out",
                    "step": step, "step_pf": run["median_ms"] * 1e3, "gain": meas, "pred_gain": pr["gain_pct"],
                    "dec_meas": run["decode_part_median_ms"] * 1e3, "dec_pred": pr["decode_in_step_us"],
                    "pred_step": pr["step_us"], "pred_step_pf": pr["step_prefetch_us"], "cap": pr["cap"],
                    "problem": run["problem"], "tile": run["tile"]})
    print(f"{'file':<16} {'config':<40} {'pf':<12} {'KV MB':>6} {'split':<8} {'step us':>8} {'pf us':>8} "
          f"{'gain %':>7} {'model %':>8} {'diff pp':>8} {'dec us':>7} {'model':>6}  cap")
    for r in rows:
        print(f"{r['file']:<16} {r['config']:<40} {r['pf']:<12} {r['kv_mb']:6.1f} {r['split']:<8} {r['step']:8.1f} "
              f"{r['step_pf']:8.1f} {r['gain']:+7.1f} {r['pred_gain']:+8.1f} {r['pred_gain'] - r['gain']:+8.1f} "
              f"{r['dec_meas']:7.1f} {r['dec_pred']:6.1f}  {r['cap']}")
    for split in ("train", "held-out"):
        for blocked in (False, True):
            d = [abs(r["pred_gain"] - r["gain"]) for r in rows
                 if r["split"] == split and r["pf"] in ("last", "side") and r["launch"] != "in_gemm"
                 and r["tile"].get("prefetch") == "evict_last" and (r["cap"] == "blocked") == blocked]
            if d:
                within = sum(x <= 5.0 for x in d)
                print(f"evict_last, {split}, {'prefetch blocked by the GEMM grid' if blocked else 'prefetch has SMs'}: "
                      f"{len(d)} steps, mean |gain error| {sum(d) / len(d):.1f} pp, max {max(d):.1f} pp, "
                      f"{within} of {len(d)} within 5 pp")
    for split in ("train", "held-out"):
        d = [abs(r["pred_gain"] - r["gain"]) for r in rows if r["split"] == split and r["launch"] == "in_gemm"]
        if d:
            within = sum(x <= 5.0 for x in d)
            print(f"in-GEMM prefetch (at once, paced, late, evict_normal), {split}: {len(d)} steps, mean |gain error| "
                  f"{sum(d) / len(d):.1f} pp, max {max(d):.1f} pp, {within} of {len(d)} within 5 pp")
    for gpu in [g for g in a.gpus.split(",") if g]:
        print(f"\nmodel only, {gpu} (same steps, evict_last):")
        seen = set()
        for r in rows:
            key = (r["config"], r["file"])
            if r["pf"] != "last" or key in seen:
                continue
            seen.add(key)
            pr = predict(a.tilesim, gpu, r)
            print(f"  {r['file']:<16} {r['config']:<40} step {pr['step_us']:7.1f} -> {pr['step_prefetch_us']:7.1f} us "
                  f"({pr['gain_pct']:+.1f}%), decode {pr['decode_cold_us'] + 0:.1f} cold -> {pr['decode_in_step_us']:.1f} "
                  f"in step, {pr['cap']}")


if __name__ == "__main__":
    main()
