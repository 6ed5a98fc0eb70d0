"""The report's figures. Every function takes plain data (as loaded by load.py) and returns
a matplotlib Figure; nothing here reads files or knows about HTML. Agg backend: no display.

Figures:
  roofline        multi-ceiling roofline per GPU: tensor and MUFU compute ceilings, SMEM /
                  L2 / HBM bandwidth ceilings; each kernel at its HBM intensity (filled) and,
                  when known, its L2 and SMEM intensities (hollow, same height).
  utilization     per-unit utilization bars of a few kernels, one bar per GPU.
  gantt           a simulator timeline (Chrome trace) as one row per track.
  scatter         predicted vs measured time, log-log, with the error figures.
  heatmap         one tile sweep: measured throughput over two tile parameters, with the
                  measured best and the model's pick marked.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402


UNITS = ("tensor", "mufu", "fma", "alu", "cvt", "smem", "l2", "hbm")
UNIT_COLORS = {
    "tensor": "#1f77b4", "mufu": "#d62728", "fma": "#ff7f0e", "alu": "#bcbd22", "cvt": "#8c564b",
    "smem": "#9467bd", "l2": "#17becf", "hbm": "#2ca02c",
}
GPU_COLORS = {"h100": "#76b900", "h200": "#4a7a00", "h20": "#e377c2", "b200": "#1f3a93"}
FAMILY_COLORS = {"gemm": "#1f77b4", "attention": "#d62728", "decode": "#2ca02c"}


def _gpu_color(gid: str) -> str:
    return GPU_COLORS.get(gid, "#7f7f7f")


def _bw(c: Dict) -> float:
    return float(c["value"])


def roofline(gpus: Sequence[Dict], records: Sequence[Dict]) -> plt.Figure:
    """gpus: [{id, name, ceilings{tensor (FLOP/s), mufu (op/s), smem, l2, hbm (B/s)}}];
    records: rows with gpu, family, flops, measured_us, bytes{hbm, l2, smem}, exp_ops."""
    placed = [r for r in records if r.get("flops") and (r.get("bytes") or {}).get("hbm")]
    gids = [g["id"] for g in gpus if any(r["gpu"] == g["id"] for r in placed)] or [g["id"] for g in gpus]
    gids = gids[:4]
    if not gids:
        raise ValueError("roofline: no GPU ceilings given")
    gmap = {g["id"]: g for g in gpus}
    fig, axes = plt.subplots(1, len(gids), figsize=(5.2 * len(gids), 4.4), squeeze=False)
    for ax, gid in zip(axes[0], gids):
        g = gmap[gid]
        c = g["ceilings"]
        peak = float(c["tensor"]["value"])
        rs = [r for r in placed if r["gpu"] == gid]
        top = max([r["flops"] / r["bytes"]["hbm"] for r in rs] + [2.0 ** 12])
        x = [2.0 ** e for e in range(-4, int(math.log2(top)) + 3)]
        lo, hi = x[0], x[-1]
        ax.axhline(peak / 1e12, color=UNIT_COLORS["tensor"], lw=2, label=f"tensor {peak / 1e12:.0f} TFLOP/s")
        for unit in ("hbm", "l2", "smem"):
            if unit in c:
                bw = _bw(c[unit])
                ys = [min(bw * xi, peak) / 1e12 for xi in x]
                ax.plot(x, ys, color=UNIT_COLORS[unit], lw=1.6,
                        label=f"{unit.upper()} {bw / 1e12:.1f} TB/s")
        # MUFU ceiling: the FLOP/s an attention kernel reaches if exp2 is its only limit =
        # MUFU op/s x FLOP per exp (about 4 x head dim), so one dashed line per head dim.
        if "mufu" in c:
            by_d: Dict[int, List[float]] = defaultdict(list)
            for r in rs:
                if r.get("exp_ops") and r["family"] == "attention":
                    by_d[int((r.get("problem") or {}).get("head_dim", 0))].append(r["flops"] / r["exp_ops"])
            for d, ratios in sorted(by_d.items())[:3]:
                ratio = sorted(ratios)[len(ratios) // 2]
                ax.axhline(float(c["mufu"]["value"]) * ratio / 1e12, color=UNIT_COLORS["mufu"], ls="--", lw=1.2,
                           label=f"MUFU, attention d={d} ({ratio:.0f} FLOP/exp)")
        # Kernels, one scatter call per (family, origin): thousands of points stay fast.
        for fam in sorted({r["family"] for r in rs}):
            for origin, mk in (("measured", "o"), ("published", "^")):
                sel = [r for r in rs if r["family"] == fam and r.get("origin", "measured") == origin]
                if not sel:
                    continue
                col = FAMILY_COLORS.get(fam, "#333333")
                ys = [r["flops"] / (r["measured_us"] * 1e-6) / 1e12 for r in sel]
                ax.scatter([r["flops"] / r["bytes"]["hbm"] for r in sel], ys, color=col, marker=mk, s=20, zorder=3,
                           edgecolor="black", linewidth=0.3)
                for unit in ("l2", "smem"):
                    pts = [(r["flops"] / r["bytes"][unit], y) for r, y in zip(sel, ys) if r["bytes"].get(unit)]
                    if pts:
                        ax.scatter([p[0] for p in pts], [p[1] for p in pts], facecolor="none", edgecolor=col,
                                   marker=mk, s=14, zorder=3, linewidth=0.5, alpha=0.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(peak / 1e12 / 1e3, peak / 1e12 * 2)
        ax.set_xlabel("arithmetic intensity (FLOP / byte)")
        ax.set_ylabel("TFLOP/s")
        ax.set_title(g.get("name", gid), fontsize=10)
        ax.grid(True, which="both", alpha=0.25)
        handles, labels = ax.get_legend_handles_labels()
        fams = sorted({r["family"] for r in rs})
        handles += [Patch(color=FAMILY_COLORS.get(f, "#333"), label=f) for f in fams]
        ax.legend(handles=handles, fontsize=6.5, loc="lower right")
    fig.suptitle("Multi-ceiling roofline (filled: HBM intensity; hollow: L2 / SMEM intensity; ^ published)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def utilization(entries: Sequence[Dict], max_kernels: int = 4) -> plt.Figure:
    """entries: [{kernel, gpu, units{unit: 0..1}, bottleneck, time_us}] -> one panel per
    kernel, per unit one bar per GPU; the binding unit's bar is hatched."""
    by_kernel: Dict[str, List[Dict]] = defaultdict(list)
    for e in entries:
        by_kernel[e["kernel"]].append(e)
    kernels = list(by_kernel)[:max_kernels]
    if not kernels:
        raise ValueError("utilization: no entries")
    fig, axes = plt.subplots(len(kernels), 1, figsize=(9, 2.6 * len(kernels)), squeeze=False)
    for ax, k in zip(axes[:, 0], kernels):
        es = by_kernel[k]
        present = {u for e in es for u in e["units"]}
        units = [u for u in UNITS if u in present] + sorted(present - set(UNITS))  # e.g. "issue"
        width = 0.8 / len(es)
        for j, e in enumerate(es):
            xs = [i + (j - (len(es) - 1) / 2) * width for i in range(len(units))]
            vals = [100.0 * float(e["units"].get(u, 0.0)) for u in units]
            bars = ax.bar(xs, vals, width=width, color=_gpu_color(e["gpu"]),
                          label=f'{e["gpu"]} ({e.get("time_us", float("nan")):.0f} us, binds: {e.get("bottleneck", "?")})')
            for u, bar in zip(units, bars):
                if u == e.get("bottleneck"):
                    bar.set_hatch("///")
                    bar.set_edgecolor("black")
        ax.set_xticks(range(len(units)))
        ax.set_xticklabels(units)
        ax.set_ylim(0, 105)
        ax.set_ylabel("utilization %")
        ax.set_title(k, fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Per-unit utilization (model), hatched = binding unit", fontsize=10)
    fig.tight_layout()
    return fig


def gantt(trace: Dict, title: str = "", max_tracks: int = 24, max_events: int = 20000) -> plt.Figure:
    """trace as returned by load.load_trace. One row per (pid, tid), bars coloured by the
    unit/op name's prefix (the part before '.' or ':'), time in microseconds."""
    events = sorted(trace["events"], key=lambda e: e["ts"])[:max_events]
    tracks: List = []
    for e in events:
        key = (e["pid"], e["tid"])
        if key not in tracks:
            tracks.append(key)
    tracks = sorted(tracks)[:max_tracks]
    row = {k: i for i, k in enumerate(tracks)}
    cats: Dict[str, str] = {}
    # Colours: an event named after a unit ("tensor", "mufu.x") gets the unit's colour;
    # other names (ops) one colour each after dropping a trailing ".wgN"/number, so the two
    # consumer warpgroups' "qk.wg0" and "qk.wg1" look alike.
    palette = ["#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
               "#dbdb8d", "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39"]

    def label(name: str) -> str:
        parts = name.replace(":", ".").split(".")
        while len(parts) > 1 and (parts[-1].isdigit() or (parts[-1][:2] in ("wg", "cta") and parts[-1][2:].isdigit())):
            parts.pop()
        return ".".join(parts)

    def colour(name: str) -> str:
        lab = label(name)
        if lab in UNIT_COLORS:
            return UNIT_COLORS[lab]
        if lab not in cats:
            cats[lab] = palette[len(cats) % len(palette)]
        return cats[lab]

    t0 = min(e["ts"] for e in events)
    t1 = max(e["ts"] + e["dur"] for e in events)
    fig, ax = plt.subplots(figsize=(11, 0.35 * len(tracks) + 1.6))
    used: Dict[str, str] = {}
    for e in events:
        key = (e["pid"], e["tid"])
        if key not in row:
            continue
        col = colour(e["name"])
        used[label(e["name"])] = col
        ax.add_patch(Rectangle((e["ts"] - t0, row[key] - 0.4), max(e["dur"], (t1 - t0) * 1e-4), 0.8,
                               facecolor=col, edgecolor="none"))
    names = []
    for k in tracks:
        n = trace["thread_names"].get(k)
        p = trace["process_names"].get(k[0])
        names.append(n if n else f"{p or k[0]}/{k[1]}")
    ax.set_yticks(range(len(tracks)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_ylim(len(tracks) - 0.5, -0.5)
    ax.set_xlim(0, (t1 - t0) * 1.01 if t1 > t0 else 1.0)
    ax.set_xlabel("time (us)")
    import textwrap
    ax.set_title("\n".join(textwrap.wrap(title or "timeline", 110)), fontsize=9)
    ax.legend(handles=[Patch(color=c, label=n) for n, c in list(used.items())[:14]], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def scatter(records: Sequence[Dict], summary: Dict) -> plt.Figure:
    """Predicted vs measured time (log-log), y = x and +-10% / +-25% bands; a table of
    MAPE / max error / Spearman per family (measured runs; published shown apart)."""
    pts = [r for r in records if r.get("predicted_us") is not None]
    if not pts:
        raise ValueError("scatter: no record has a prediction")
    fig, ax = plt.subplots(figsize=(7.2, 6.2))
    for fam in sorted({r["family"] for r in pts}):
        for origin, mk in (("measured", "o"), ("published", "^")):
            rs = [r for r in pts if r["family"] == fam and r.get("origin", "measured") == origin]
            if rs:
                ax.scatter([r["measured_us"] for r in rs], [r["predicted_us"] for r in rs], marker=mk, s=20,
                           color=FAMILY_COLORS.get(fam, "#333"), alpha=0.8, edgecolor="black", linewidth=0.3,
                           label=f"{fam} ({origin}, n={len(rs)})")
    lo = min(min(r["measured_us"], r["predicted_us"]) for r in pts) / 1.5
    hi = max(max(r["measured_us"], r["predicted_us"]) for r in pts) * 1.5
    ax.plot([lo, hi], [lo, hi], color="black", lw=1)
    for f, ls in ((0.10, ":"), (0.25, "--")):
        ax.plot([lo, hi], [lo * (1 + f), hi * (1 + f)], color="gray", lw=0.8, ls=ls)
        ax.plot([lo, hi], [lo * (1 - f), hi * (1 - f)], color="gray", lw=0.8, ls=ls,
                label=f"±{int(f * 100)}%")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured time (us)")
    ax.set_ylabel("predicted time (us)")
    lines = []
    for origin in ("measured", "published"):
        for fam, s in summary.get(origin, {}).items():  # the C++ figures (tilesim validate's)
            if not s["n"]:
                continue
            rho = "n/a" if s.get("spearman") is None else f'{s["spearman"]:.2f}'
            lines.append(f'{fam:9s} {origin[:4]} n={s["n"]:3d} MAPE {s["mape_pct"]:5.1f}% '
                         f'max {s["max_error_pct"]:5.1f}% rho {rho}')
    ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", family="monospace",
            fontsize=7, bbox=dict(facecolor="white", alpha=0.85, edgecolor="gray"))
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, which="both", alpha=0.25)
    ax.set_title("Predicted vs measured kernel time", fontsize=10)
    fig.tight_layout()
    return fig


def _sweep_groups(records: Sequence[Dict]) -> List[Dict]:
    """Every measured tile sweep: (family, gpu, shape, schedule) with >= 2 tilesim configs
    and at least one varying tile parameter; its two axes (block_m x block_n when both vary,
    else the two parameters with the most distinct values). Largest first."""
    groups: Dict = defaultdict(list)
    for r in records:
        if r.get("schedule") and r.get("tile") and r.get("origin", "measured") == "measured":
            groups[(r["family"], r["gpu"], r["shape"], r["schedule"])].append(r)
    out = []
    for key, rs in groups.items():
        params = sorted({p for r in rs for p in r["tile"]})
        counts = {p: len({str(r["tile"].get(p)) for r in rs}) for p in params}
        varying = [p for p in sorted(params, key=lambda p: (-counts[p], p)) if counts[p] > 1]
        if len(rs) < 2 or not varying:
            continue
        pref = [p for p in ("block_m", "block_n") if p in varying]
        axes_ = pref if len(pref) == 2 else (varying + ["-"])[:2]
        out.append({"key": key, "records": rs, "x": axes_[1], "y": axes_[0], "blocks": len(pref) == 2})
    out.sort(key=lambda sw: (-len(sw["records"]), sw["key"]))
    return out


def pick_sweep(records: Sequence[Dict]) -> Optional[Dict]:
    """The largest measured tile sweep (see _sweep_groups), or None."""
    sw = _sweep_groups(records)
    return sw[0] if sw else None


def pick_sweeps(records: Sequence[Dict]) -> List[Dict]:
    """One sweep per family: the largest whose block_m and block_n both vary if any, else
    the largest."""
    out = []
    all_sw = _sweep_groups(records)
    for fam in sorted({sw["key"][0] for sw in all_sw}):
        fs = [sw for sw in all_sw if sw["key"][0] == fam]
        out.append(next((sw for sw in fs if sw["blocks"]), fs[0]))
    return out


def _heat_panel(ax, sw: Dict):
    rs, xp, yp = sw["records"], sw["x"], sw["y"]

    def val(r, p):
        return r["tile"].get(p, "-") if p != "-" else "-"

    def sort_key(v):
        return (0, float(v)) if isinstance(v, (int, float)) else (1, str(v))

    xs = sorted({val(r, xp) for r in rs}, key=sort_key)
    ys = sorted({val(r, yp) for r in rs}, key=sort_key)
    cell: Dict = {}
    for r in rs:
        k = (val(r, yp), val(r, xp))
        if k not in cell or r["measured_us"] < cell[k]["measured_us"]:
            cell[k] = r
    best_us = min(r["measured_us"] for r in rs)
    pred = [r for r in rs if r.get("predicted_us") is not None]
    pick = min(pred, key=lambda r: r["predicted_us"]) if pred else None
    grid = [[(best_us / cell[(y, x)]["measured_us"]) if (y, x) in cell else float("nan") for x in xs] for y in ys]
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            r = cell.get((y, x))
            if r is None:
                continue
            p = r.get("predicted_us")
            txt = f'{r["measured_us"]:.0f}\n{p:.0f}' if p is not None else f'{r["measured_us"]:.0f}\n-'
            ax.text(j, i, txt, ha="center", va="center", fontsize=7, color="white" if grid[i][j] < 0.6 else "black")
            if r["measured_us"] == best_us:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2.5))
            if pick is not None and (val(pick, yp), val(pick, xp)) == (y, x):
                ax.plot([j + 0.35], [i - 0.3], marker="*", color="orange", markersize=12, markeredgecolor="black")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([str(v) for v in xs])
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels([str(v) for v in ys])
    ax.set_xlabel(xp)
    ax.set_ylabel(yp)
    fam, gid, shape, sched = sw["key"]
    import textwrap
    ax.set_title("\n".join([f"{sched} on {gid}"] + textwrap.wrap(shape, 40)), fontsize=7.5)
    return im


def heatmap(records: Sequence[Dict]) -> plt.Figure:
    """Tile-sweep heat maps, one panel per family (its largest block_m x block_n sweep):
    cells = best measured time over the other tile parameters relative to the sweep's best,
    text = measured / predicted us. Red box: measured best; star: the model's pick."""
    sweeps = pick_sweeps(records)
    if not sweeps:
        raise ValueError("heatmap: no tile sweep (>= 2 configs of one shape and schedule) in the records")
    widths = [max(3.0, 1.0 * len({str(r["tile"].get(sw["x"])) for r in sw["records"]}) + 1.5) for sw in sweeps]
    heights = [0.55 * len({str(r["tile"].get(sw["y"])) for r in sw["records"]}) + 2.0 for sw in sweeps]
    fig, axes = plt.subplots(1, len(sweeps), figsize=(sum(widths) + 1.5, max(heights) + 0.8), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    im = None
    for ax, sw in zip(axes[0], sweeps):
        im = _heat_panel(ax, sw)
    fig.colorbar(im, ax=list(axes[0]), label="measured best / cell time", shrink=0.8)
    fig.suptitle("Tile sweeps: cell = measured / predicted us (best over the other parameters); "
                 "red box = measured best, * = model's pick", fontsize=9)
    return fig


def heatmap_model(sweep: Dict) -> plt.Figure:
    """The model's own tile sweep (no measurement yet): cells = best predicted time over the
    other tile parameters, relative to the predicted best; star = the model's pick.
    sweep: {title, records: [{schedule, tile, predicted_us}]}."""
    rs = [r for r in sweep.get("records", []) if r.get("predicted_us")]
    if len(rs) < 2:
        raise ValueError("heatmap_model: fewer than 2 predicted tiles")
    params = sorted({p for r in rs for p in r["tile"]})
    counts = {p: len({str(r["tile"].get(p)) for r in rs}) for p in params}
    pref = [p for p in ("block_m", "block_n") if counts.get(p, 0) > 1]
    if len(pref) < 2:
        pref = [p for p in sorted(params, key=lambda p: (-counts[p], p)) if counts[p] > 1][:2]
    if not pref:
        raise ValueError("heatmap_model: no tile parameter varies")
    yp = pref[0]
    xp = pref[1] if len(pref) > 1 else None
    xs = sorted({r["tile"].get(xp) for r in rs}) if xp else [None]
    ys = sorted({r["tile"].get(yp) for r in rs})
    cell: Dict = {}
    for r in rs:
        k = (r["tile"].get(yp), r["tile"].get(xp) if xp else None)
        if k not in cell or r["predicted_us"] < cell[k]["predicted_us"]:
            cell[k] = r
    best = min(r["predicted_us"] for r in rs)
    grid = [[best / cell[(y, x)]["predicted_us"] if (y, x) in cell else float("nan") for x in xs] for y in ys]
    fig, ax = plt.subplots(figsize=(1.3 * len(xs) + 3, 0.7 * len(ys) + 2.2))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            r = cell.get((y, x))
            if r is None:
                ax.text(j, i, "infeasible", ha="center", va="center", fontsize=6, color="gray")
                continue
            ax.text(j, i, f'{r["predicted_us"]:.0f}', ha="center", va="center", fontsize=7,
                    color="white" if grid[i][j] < 0.6 else "black")
            if r["predicted_us"] == best:
                ax.plot([j + 0.3], [i - 0.25], marker="*", color="orange", markersize=12, markeredgecolor="black")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([str(v) for v in xs])
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels([str(v) for v in ys])
    ax.set_xlabel(xp or "")
    ax.set_ylabel(yp)
    ax.set_title(f'{sweep.get("title", "model tile sweep")}\ncell: predicted us (best over other params); '
                 f'* model pick; no measured sweep yet', fontsize=8)
    fig.colorbar(im, ax=ax, label="predicted best time / cell time")
    fig.tight_layout()
    return fig


def scaling(study: Dict) -> plt.Figure:
    """study: {title, baseline, points [{label, time_us, bottleneck, ...}]} -> one
    horizontal bar per point (time, us), coloured by the binding unit, each labelled with
    the binding unit and the speed-up over the baseline point. Points the model could not
    predict (with 'reason') are listed in the title's footnote, not drawn."""
    pts = [p for p in study.get("points", []) if p.get("time_us")]
    if not pts:
        raise ValueError("scaling: no predicted points")
    base = next((p["time_us"] for p in pts if p["label"] == study.get("baseline")), pts[0]["time_us"])
    units = sorted({p.get("bottleneck", "?") for p in pts})
    cmap = plt.get_cmap("tab10")
    color = {u: cmap(i % 10) for i, u in enumerate(units)}
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(pts) + 1.6))
    ys = list(range(len(pts)))[::-1]
    for y, p in zip(ys, pts):
        ax.barh(y, p["time_us"], color=color[p.get("bottleneck", "?")], edgecolor="black", linewidth=0.4)
        ax.text(p["time_us"], y, f'  binds: {p.get("bottleneck", "?")}, {base / p["time_us"]:.2f}x vs {study.get("baseline")}',
                va="center", fontsize=7)
    ax.set_yticks(ys)
    ax.set_yticklabels([p["label"] for p in pts], fontsize=8)
    ax.set_xlabel("predicted time (us), best tile of any schedule")
    ax.set_xlim(0, max(p["time_us"] for p in pts) * 1.6)
    skipped = [p["label"] for p in study.get("points", []) if not p.get("time_us")]
    title = study.get("title", "scaling")
    if skipped:
        title += f"\n(not predicted: {', '.join(skipped)})"
    ax.set_title(title, fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def counters(entries: Sequence[Dict]) -> plt.Figure:
    """Predicted vs ncu-measured SM clock (left) and unit utilization (right)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    fams = sorted({e["family"] for e in entries})
    markers = dict(zip(fams, "os^D"))
    for fam in fams:
        es = [e for e in entries if e["family"] == fam]
        a.scatter([e["measured_clock_mhz"] for e in es], [e["predicted_clock_mhz"] for e in es], s=12,
                  marker=markers[fam], alpha=0.6, label=fam)
    lo = min(min(e["measured_clock_mhz"], e["predicted_clock_mhz"]) for e in entries) - 20
    hi = max(max(e["measured_clock_mhz"], e["predicted_clock_mhz"]) for e in entries) + 20
    a.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    a.plot([lo, hi], [lo * 1.03, hi * 1.03], "k--", lw=0.6)
    a.plot([lo, hi], [lo * 0.97, hi * 0.97], "k--", lw=0.6)
    a.set_xlabel("measured SM clock (ncu), MHz")
    a.set_ylabel("predicted SM clock, MHz")
    a.set_title("clock (dashed: +-3 %)")
    a.legend(fontsize=8)
    units = sorted({u for e in entries for u in e["utilization"]})
    for u in units:
        pts = [e["utilization"][u] for e in entries if u in e["utilization"]]
        b.scatter([p["measured_pct"] for p in pts], [p["predicted_pct"] for p in pts], s=10, alpha=0.5, label=u)
    b.plot([0, 100], [0, 100], "k-", lw=0.8)
    b.plot([0, 100], [10, 110], "k--", lw=0.6)
    b.plot([0, 100], [-10, 90], "k--", lw=0.6)
    b.set_xlim(0, 100)
    b.set_ylim(0, 100)
    b.set_xlabel("measured utilization (ncu), % of peak")
    b.set_ylabel("predicted utilization, % of peak")
    b.set_title("per-unit utilization")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig
