"""Error figures of predictions against measurements.

All relative errors are |predicted - measured| / measured, in percent. Spearman's rank
correlation uses average ranks for ties (so a model that predicts the same time for two
tiles is neither rewarded nor punished for their order). Top-pick regret: how much slower
the tile the model ranks first is than the measured best, in percent; the model "wins"
a shape when its pick is within 5% of the best (the issue's criterion).
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Dict, Iterable, List, Sequence

TOP_PICK_TOLERANCE = 0.05  # the "top pick within 5% of the measured best"


def _pairs(pred: Sequence[float], meas: Sequence[float]):
    if len(pred) != len(meas):
        raise ValueError(f"predicted ({len(pred)}) and measured ({len(meas)}) differ in length")
    if not pred:
        raise ValueError("no points")
    for p, m in zip(pred, meas):
        if not (math.isfinite(p) and math.isfinite(m)) or m <= 0:
            raise ValueError(f"bad point predicted={p} measured={m}: measured must be > 0, both finite")
    return list(zip(pred, meas))


def rel_errors_pct(pred: Sequence[float], meas: Sequence[float]) -> List[float]:
    return [abs(p - m) / m * 100.0 for p, m in _pairs(pred, meas)]


def mape(pred: Sequence[float], meas: Sequence[float]) -> float:
    e = rel_errors_pct(pred, meas)
    return sum(e) / len(e)


def max_error(pred: Sequence[float], meas: Sequence[float]) -> float:
    return max(rel_errors_pct(pred, meas))


def ranks(values: Sequence[float]) -> List[float]:
    """1-based ranks, ties get the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            r[order[k]] = avg
        i = j + 1
    return r


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho; NaN when fewer than 2 points or when either side is constant."""
    if len(a) != len(b):
        raise ValueError("spearman: sequences differ in length")
    n = len(a)
    if n < 2:
        return float("nan")
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    if va == 0 or vb == 0:
        return float("nan")
    return cov / math.sqrt(va * vb)


def top_pick_regret(pred: Sequence[float], meas: Sequence[float]) -> float:
    """(measured time of the model's fastest-predicted config) / (measured best) - 1, in %.
    Ties in the prediction: the first one listed (deterministic)."""
    pts = _pairs(pred, meas)
    pick = min(range(len(pts)), key=lambda i: pts[i][0])
    best = min(m for _, m in pts)
    return (pts[pick][1] / best - 1.0) * 100.0


def median_signed_error(pred: Sequence[float], meas: Sequence[float]) -> float:
    """Median of (predicted - measured) / measured in percent: < 0 = the model is too fast."""
    e = sorted((p - m) / m * 100.0 for p, m in _pairs(pred, meas))
    n = len(e)
    return e[n // 2] if n % 2 else 0.5 * (e[n // 2 - 1] + e[n // 2])


def summarize(pred: Sequence[float], meas: Sequence[float]) -> Dict[str, float]:
    return {
        "n": len(pred),
        "mape_pct": mape(pred, meas),
        "max_error_pct": max_error(pred, meas),
        "spearman": spearman(pred, meas),
    }


def _config_text(r: Dict) -> str:
    tile = r.get("tile") or {}
    return f'{r.get("schedule")} ' + (",".join(f"{k}={tile[k]}" for k in sorted(tile)) or "-")


def by_family_and_shape(records: Iterable[Dict]) -> Dict[str, Dict]:
    """Per family: summary over all predicted records; per (gpu, shape) within it: the
    summary plus the top pick over the tilesim configs of that shape.

    Only records with a prediction count; records of vendor libraries (no schedule) are
    left out of the top pick (they are not tiles the model chooses between)."""
    fams: Dict[str, List[Dict]] = defaultdict(list)
    for r in records:
        if r.get("predicted_us") is not None:
            fams[r["family"]].append(r)
    out: Dict[str, Dict] = {}
    for fam, rs in sorted(fams.items()):
        p_all, m_all = [r["predicted_us"] for r in rs], [r["measured_us"] for r in rs]
        s = summarize(p_all, m_all)
        s["median_signed_error_pct"] = median_signed_error(p_all, m_all)
        shapes: Dict[str, List[Dict]] = defaultdict(list)
        for r in rs:
            if r.get("schedule"):
                shapes[f'{r["gpu"]} {r["shape"]}'].append(r)
        shape_out = {}
        for key, srs in sorted(shapes.items()):
            p = [r["predicted_us"] for r in srs]
            m = [r["measured_us"] for r in srs]
            ss = summarize(p, m)
            ss["top_pick_regret_pct"] = top_pick_regret(p, m)
            ss["top_pick_within_5pct"] = ss["top_pick_regret_pct"] <= TOP_PICK_TOLERANCE * 100.0
            pick = min(range(len(srs)), key=lambda i: p[i])
            best = min(range(len(srs)), key=lambda i: m[i])
            ss["model_pick"] = _config_text(srs[pick])
            ss["measured_best"] = _config_text(srs[best])
            shape_out[key] = ss
        s["shapes"] = shape_out
        out[fam] = s
    return out
