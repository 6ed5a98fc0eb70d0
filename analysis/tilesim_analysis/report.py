"""Writes the self-contained HTML report (figures embedded as base64 PNG, also saved as PNG
and SVG beside it) from the JSON that `tilesim report` prepares.

    python3 -m tilesim_analysis.report --input report_input.json --out report/ [--require-all]

Exit codes: 0 ok, 1 bad input or unwritable output (message on stderr), 2 usage error.
The report is built in a temporary folder next to --out and moved into place only when
everything succeeded: a failure leaves no partial report behind. Progress on stderr.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

from . import load, plots

HTML_NAME = "report.html"
FIG_DIR = "figures"


def _progress(msg: str) -> None:
    print(f"report: {msg}", file=sys.stderr, flush=True)


def _fmt(v, nd=1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return html.escape(str(v))


def _table(headers: List[str], rows: List[List]) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<div class="wide"><table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table></div>'


def _figure_jobs(doc: Dict) -> List[Tuple[str, str, Optional[Callable]]]:
    """(name, caption, builder or None with the reason in caption) for every figure."""
    recs = doc["records"]
    jobs: List[Tuple[str, str, Optional[Callable]]] = []
    if doc["gpus"] and any(r.get("flops") and (r.get("bytes") or {}).get("hbm") for r in recs):
        jobs.append(("roofline", "Multi-ceiling roofline: every kernel at its measured throughput.",
                     lambda: plots.roofline(doc["gpus"], recs)))
    else:
        jobs.append(("roofline", "no GPU ceilings or no record with FLOPs and HBM bytes", None))
    if doc["utilization"]:
        jobs.append(("utilization", "Per-unit utilization predicted by the model, per GPU.",
                     lambda: plots.utilization(doc["utilization"])))
    else:
        jobs.append(("utilization", "no utilization entries in the input", None))
    if (doc.get("scaling") or {}).get("points"):
        jobs.append(("scaling", "Asymmetric scaling: the same problem on H100, B200 and B200 with one unit "
                     "scaled 2x (tilesim predict --scale), with the unit that binds.",
                     lambda: plots.scaling(doc["scaling"])))
    else:
        jobs.append(("scaling", "no scaling study in the input", None))
    if doc["traces"]:
        for i, t in enumerate(doc["traces"]):
            title = t.get("title", f"trace {i}")
            jobs.append((f"gantt_{i}", f"Simulator timeline: {title}",
                         (lambda t=t, title=title: plots.gantt(load.load_trace(t["path"]), title))))
    else:
        jobs.append(("gantt_0", "no simulator trace in the input", None))
    if any(r.get("predicted_us") is not None for r in recs):
        jobs.append(("scatter", "Predicted vs measured time with the error figures per family.",
                     lambda: plots.scatter(recs, doc["summary"])))
    else:
        jobs.append(("scatter", "no record has a prediction", None))
    if doc.get("counters"):
        jobs.append(("counters", "The model against ncu (--clock-control none) on the profiled runs: predicted vs "
                     "measured SM clock, and predicted vs measured utilization of the tensor pipe, MUFU and issue "
                     "slots (the dashed band is +-10 points).",
                     lambda: plots.counters(doc["counters"])))
    else:
        jobs.append(("counters", "no hardware-counter measurements (data/measurements/ncu) in the input", None))
    if plots.pick_sweep(recs) is not None:
        jobs.append(("heatmap", "Tile sweep of the largest measured sweep.", lambda: plots.heatmap(recs)))
    elif len((doc.get("model_sweep") or {}).get("records", [])) >= 2:
        jobs.append(("heatmap", "The model's tile sweep (no measured sweep committed yet).",
                     lambda: plots.heatmap_model(doc["model_sweep"])))
    else:
        jobs.append(("heatmap", "no tile sweep (>= 2 configs of one shape) in the records", None))
    return jobs


def _accuracy_html(summary: Dict) -> str:
    rows, shape_rows = [], []
    for fam, s in summary.items():
        shapes = s["shapes"]
        wins3 = sum(1 for v in shapes.values() if v["top_pick_within_3pct"])
        wins5 = sum(1 for v in shapes.values() if v["top_pick_within_5pct"])
        rows.append([_fmt(fam), s["n"], _fmt(s["mape_pct"]), _fmt(s["max_error_pct"]),
                     _fmt(s["median_signed_error_pct"]), _fmt(s["spearman"], 2),
                     f"{wins3}/{len(shapes)}" if shapes else "n/a",
                     f"{wins5}/{len(shapes)}" if shapes else "n/a"])
        for key, v in shapes.items():
            shape_rows.append([_fmt(fam), _fmt(key), v["n"], _fmt(v["mape_pct"]), _fmt(v["max_error_pct"]),
                               _fmt(v["spearman"], 2), _fmt(v["top_pick_regret_pct"]), _fmt(v["top_pick_within_3pct"]),
                               _fmt(v["model_pick"]), _fmt(v["measured_best"])])
    out = _table(["family", "n", "MAPE %", "max error %", "bias % (median signed; < 0 = too fast)", "Spearman",
                  "top pick within 3% (target)", "top pick within 5%"], rows)
    if shape_rows:
        out += "<h3>Per shape</h3>" + _table(
            ["family", "gpu / shape", "n", "MAPE %", "max %", "Spearman", "top-pick regret %", "within 3%",
             "model's pick", "measured best"], shape_rows)
    return out


def _calibration_html(cal: Dict) -> str:
    if not cal:
        return "<p>No calibration in the input.</p>"
    rows = [[_fmt(c.get("name")), _fmt(c.get("value"), 4), _fmt(c.get("unit")), _fmt(c.get("initial"), 4)]
            for c in cal.get("constants", [])]
    out = _table(["constant", "fitted", "unit", "before"], rows) if rows else ""
    split_rows = []
    for split in ("train", "test"):
        s = cal.get(split) or {}
        if s:
            split_rows.append([split, s.get("n", "n/a"), _fmt(s.get("mape_before_pct")), _fmt(s.get("mape_after_pct"))])
    if split_rows:
        out += _table(["split", "n", "MAPE before %", "MAPE after %"], split_rows)
    if cal.get("note"):
        out += f"<p>{html.escape(str(cal['note']))}</p>"
    return out


def _published_html(recs: List[Dict]) -> str:
    pub = [r for r in recs if r.get("origin") == "published"]
    if not pub:
        return "<p>No published results in the input.</p>"
    rows = []
    for r in pub:
        p = r.get("predicted_us")
        err = abs(p - r["measured_us"]) / r["measured_us"] * 100 if p is not None else None
        model = r.get("model_tile") or r.get("reason") or ""
        if r.get("model_tile") and r.get("tile_choice"):
            model += " [" + r["tile_choice"] + "]"
        rows.append([_fmt(r["gpu"]), _fmt(r.get("impl")), _fmt(r["shape"]), _fmt(r["measured_us"]), _fmt(p),
                     _fmt(err), _fmt(model), _fmt(r.get("source"))])
    return _table(["gpu", "kernel", "problem", "published us", "predicted us", "error %",
                   "model's tile (the kernel's own where its source gives it, else tune's best) or why not predicted",
                   "source"], rows)


def _scaling_html(study: Dict) -> str:
    pts = study.get("points") or []
    if not pts:
        return "<p>No scaling study in the input.</p>"
    base = next((p.get("time_us") for p in pts if p["label"] == study.get("baseline")), None)
    rows = []
    for p in pts:
        t = p.get("time_us")
        rows.append([p["label"], _fmt(t), _fmt(p.get("tflops"), 0),
                     _fmt(base / t, 2) if (t and base) else "-", p.get("bottleneck", p.get("reason", "-")),
                     f'{p.get("schedule", "")} {p.get("tile", "")}'.strip()])
    intro = (f"<p>{html.escape(study.get('title', ''))}. Each row is the model's best tile on that chip; "
             "'x2' rows scale one unit of the B200 profile (<code>--scale unit=2</code>). A unit whose 2x "
             "leaves the time unchanged is not what binds; the one that moves it is.</p>")
    return intro + _table(["chip", "time us", "TFLOP/s", f"speed-up vs {study.get('baseline')}", "binds",
                           "best tile"], rows)


def _vendor_html(recs: List[Dict]) -> str:
    """Vendor-library runs next to the model's best tile for the same problem: tells a model
    error (vendor much faster than the model's best) from a slow kernel of ours."""
    groups: Dict[Tuple[str, str, str], List[Dict]] = {}
    for r in recs:
        if r.get("origin", "measured") == "measured" and not r.get("schedule") and r.get("model_best_us"):
            groups.setdefault((r["gpu"], r["impl"], r["shape"]), []).append(r)
    if not groups:
        return "<p>No vendor-library runs with a comparable model prediction.</p>"
    ours: Dict[Tuple[str, str], float] = {}
    for r in recs:
        if r.get("origin", "measured") == "measured" and r.get("schedule") and r.get("impl") == "tilesim":
            k = (r["gpu"], r["shape"])
            ours[k] = min(ours.get(k, float("inf")), r["measured_us"])
    rows = []
    for (gpu, impl, shape), rs in sorted(groups.items()):
        meas = min(r["measured_us"] for r in rs)
        best = rs[0]["model_best_us"]
        mine = ours.get((gpu, shape))
        rows.append([_fmt(gpu), _fmt(impl), _fmt(shape), _fmt(meas), _fmt(best), _fmt(best / meas, 2),
                     _fmt(mine) if mine is not None else "n/a", _fmt(rs[0].get("model_best_tile"))])
    return _table(["gpu", "vendor", "problem", "vendor us (best run)", "model's best tile us", "model / vendor",
                   "best tilesim kernel us", "model's best tile"], rows)


CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f0f0f0}.wide{overflow-x:auto;max-height:36em;overflow-y:auto}img{max-width:100%;border:1px solid #ddd}.missing{color:#a00}figcaption{font-size:13px}"""


def _no_nan(x):
    """JSON has no NaN: undefined figures (Spearman of < 2 points) become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x


def build(doc: Dict, out_dir: str, require_all: bool = False) -> Dict:
    """Writes report.html + figures/*.png|svg + metrics.json into out_dir (which must not
    hold a report being written concurrently). Returns {figures: [...], missing: [...]}."""
    figdir = os.path.join(out_dir, FIG_DIR)
    os.makedirs(figdir, exist_ok=True)
    jobs = _figure_jobs(doc)
    sections, made, missing = [], [], []
    for i, (name, caption, builder) in enumerate(jobs, 1):
        t0 = time.monotonic()
        if builder is None:
            _progress(f"[{i}/{len(jobs)}] {name}: skipped ({caption})")
            missing.append({"figure": name, "reason": caption})
            sections.append(f'<h3>{html.escape(name)}</h3><p class="missing">not drawn: {html.escape(caption)}</p>')
            continue
        fig = builder()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        png = buf.getvalue()
        with open(os.path.join(figdir, f"{name}.png"), "wb") as f:
            f.write(png)
        fig.savefig(os.path.join(figdir, f"{name}.svg"), format="svg")
        plots.plt.close(fig)
        made.append(name)
        b64 = base64.b64encode(png).decode("ascii")
        sections.append(
            f'<figure><h3>{html.escape(name)}</h3><img alt="{html.escape(name)}" src="data:image/png;base64,{b64}">'
            f'<figcaption>{html.escape(caption)} Files: <a href="{FIG_DIR}/{name}.png">PNG</a>, '
            f'<a href="{FIG_DIR}/{name}.svg">SVG</a></figcaption></figure>')
        _progress(f"[{i}/{len(jobs)}] {name}: done ({time.monotonic() - t0:.1f} s)")
    if require_all and missing:
        raise load.LoadError("figures not drawn: " + "; ".join(f'{m["figure"]} ({m["reason"]})' for m in missing))
    measured = [r for r in doc["records"] if r.get("origin", "measured") == "measured"]
    summary = doc["summary"]["measured"]
    pub_summary = doc["summary"]["published"]
    with open(os.path.join(out_dir, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(_no_nan({"schema": "tilesim.report_metrics.v1", "measured": summary, "published": pub_summary,
                           "figures": made, "missing": missing}), f, indent=1, allow_nan=False)
    n_meas = len(measured)
    n_pred = sum(1 for r in measured if r.get("predicted_us") is not None)
    gen = html.escape(str(doc.get("generated_by", "tilesim report")))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tilesim report</title><style>{CSS}</style></head>
<body><h1>tilesim report</h1>
<p>Generated by {gen} from {html.escape(str(doc.get('data_dir', '?')))}: {n_meas} measured runs ({n_pred} predicted),
{len(doc['records']) - n_meas} published results. Self-contained: no server or network needed.</p>
<h2>Model accuracy on measured kernels</h2>{_accuracy_html(summary) if summary else '<p>No predicted measurements.</p>'}
<h2>Vendor libraries vs the model's best tile</h2>{_vendor_html(doc['records'])}
<h2>Calibration</h2>{_calibration_html(doc.get('calibration') or {})}
<h2>Published results (chips we cannot run)</h2>{_published_html(doc['records'])}
<h2>Asymmetric scaling: H100 to B200, one unit at a time</h2>{_scaling_html(doc.get('scaling') or {})}
<h2>Figures</h2>{''.join(sections)}
</body></html>
"""
    with open(os.path.join(out_dir, HTML_NAME), "w", encoding="utf-8") as f:
        f.write(page)
    return {"figures": made, "missing": missing}


def _install(tmp: str, out_dir: str) -> None:
    """Moves the finished files from tmp into out_dir (created if needed)."""
    os.makedirs(os.path.join(out_dir, FIG_DIR), exist_ok=True)
    for root, _, files in os.walk(tmp):
        rel = os.path.relpath(root, tmp)
        for fn in files:
            dst_dir = os.path.join(out_dir, rel) if rel != "." else out_dir
            os.makedirs(dst_dir, exist_ok=True)
            os.replace(os.path.join(root, fn), os.path.join(dst_dir, fn))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tilesim_analysis.report", description=__doc__.split("\n")[0])
    ap.add_argument("--input", required=True, help="report input JSON written by `tilesim report`")
    ap.add_argument("--out", required=True, help="output folder (report.html, figures/, metrics.json)")
    ap.add_argument("--require-all", action="store_true", help="fail unless every figure could be drawn")
    args = ap.parse_args(argv)
    out_dir = os.path.abspath(args.out)
    parent = os.path.dirname(out_dir)
    try:
        doc = load.load_report_input(args.input)
        _progress(f"{len(doc['records'])} records, {len(doc['gpus'])} GPUs, {len(doc['traces'])} traces")
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise load.LoadError(f"{out_dir}: exists and is not a folder")
        if not os.path.isdir(parent):
            raise load.LoadError(f"{parent}: folder does not exist (cannot create {out_dir})")
        try:
            tmp = tempfile.mkdtemp(prefix=".tilesim-report-", dir=parent)
        except OSError as e:
            raise load.LoadError(f"{parent}: not writable ({e.strerror})") from None
        try:
            res = build(doc, tmp, require_all=args.require_all)
            _install(tmp, out_dir)
        except OSError as e:
            raise load.LoadError(f"{out_dir}: cannot write ({e.strerror})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except load.LoadError as e:
        print(f"report: error: {e}", file=sys.stderr)
        return 1
    _progress(f"wrote {os.path.join(out_dir, HTML_NAME)} ({len(res['figures'])} figures"
              f"{', ' + str(len(res['missing'])) + ' not drawn' if res['missing'] else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
