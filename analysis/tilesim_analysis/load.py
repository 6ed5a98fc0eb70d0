"""Strict loaders for the JSON files the analysis reads.

- the report input written by `tilesim report` (schema tilesim.report_input.v1): records
  of (problem, schedule, tile) with the measured and the predicted time, and the accuracy
  summary the C++ side computed (measurement files, problem keys and every metric are
  C++'s: `tilesim validate`; nothing here recomputes them),
- Chrome trace JSON written by the simulator ({"traceEvents": [...]}),
- the published-results file (data/published/*.json, schema tilesim.published.v1).

Every loader raises LoadError naming the file and the field that is wrong, never returns
half-parsed data.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional

REPORT_INPUT_SCHEMA = "tilesim.report_input.v1"
PUBLISHED_SCHEMA = "tilesim.published.v1"


class LoadError(ValueError):
    """A file that cannot be used: the message names the file and the field."""


def _read_json(path: str) -> Any:
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise LoadError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise LoadError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:
        raise LoadError(f"{path}: cannot read ({e.strerror})") from None


def _require(obj: Dict[str, Any], key: str, kind, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise LoadError(f"{where}: missing field '{key}'")
    val = obj[key]
    if kind is float:
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise LoadError(f"{where}: field '{key}' must be a finite number, got {val!r}")
        return float(val)
    if not isinstance(val, kind):
        raise LoadError(f"{where}: field '{key}' has type {type(val).__name__}, expected {kind.__name__}")
    return val


_RECORD_FIELDS = (("family", str), ("gpu", str), ("origin", str), ("measured_us", float))


def load_report_input(path: str) -> Dict[str, Any]:
    """The JSON `tilesim report` writes for the Python side (schema tilesim.report_input.v1).

    records: [{family, gpu, origin ('measured'|'published'), impl, schedule, tile, problem,
               shape, measured_us, predicted_us (may be null: model could not predict),
               flops, bytes {hbm, l2, smem}, exp_ops, bottleneck, utilization {unit: 0..1},
               split ('train'|'test'|null), source}]
    gpus: [{id, name, ceilings {tensor, mufu, smem, l2, hbm: {value, unit}}}]
    utilization: [{kernel, gpu, time_us, bottleneck, units {unit: 0..1}}]
    traces: [{title, path}]   (paths relative to the input file's folder or absolute)
    scaling (optional): {title, problem, baseline, points [{label, gpu, scale, time_us, tflops,
               bottleneck, schedule, tile, units} or {label, gpu, scale, reason}]}
    summary: {measured: {family: S}, published: {family: S}}, S as `tilesim validate --json`
               writes a family (n, mape_pct, max_error_pct, spearman, median_signed_error_pct,
               shapes {"gpu shape": {n, mape_pct, max_error_pct, spearman, top_pick_regret_pct,
               top_pick_within_3pct, top_pick_within_5pct, model_pick, measured_best}}); NaN
               figures are null.
    validation, calibration: summaries from the C++ side, shown as tables when present.
    """
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise LoadError(f"{path}: top level must be an object")
    schema = _require(doc, "schema", str, path)
    if schema != REPORT_INPUT_SCHEMA:
        raise LoadError(f"{path}: schema '{schema}' is not '{REPORT_INPUT_SCHEMA}'")
    records = _require(doc, "records", list, path)
    for i, r in enumerate(records):
        where = f"{path}: records[{i}]"
        for key, kind in _RECORD_FIELDS:
            _require(r, key, kind, where)
        if r["measured_us"] <= 0:
            raise LoadError(f"{where}: measured_us must be > 0")
        p = r.get("predicted_us")
        if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p) or p <= 0):
            raise LoadError(f"{where}: predicted_us must be a positive number or null, got {p!r}")
        _require(r, "shape", str, where)
        r.setdefault("tile", {})
    summary = _require(doc, "summary", dict, path)
    for origin in ("measured", "published"):
        for fam, fs in _require(summary, origin, dict, f"{path}: summary").items():
            where = f"{path}: summary.{origin}.{fam}"
            _require(fs, "n", int, where)
            _require(fs, "shapes", dict, where)
    gpus = doc.get("gpus", [])
    for i, g in enumerate(gpus):
        where = f"{path}: gpus[{i}]"
        _require(g, "id", str, where)
        ceil = _require(g, "ceilings", dict, where)
        for name, c in ceil.items():
            _require(c, "value", float, f"{where}: ceilings.{name}")
    base = os.path.dirname(os.path.abspath(path))
    for i, t in enumerate(doc.get("traces", [])):
        tp = _require(t, "path", str, f"{path}: traces[{i}]")
        if not os.path.isabs(tp):
            t["path"] = os.path.join(base, tp)
    doc.setdefault("gpus", [])
    doc.setdefault("utilization", [])
    doc.setdefault("traces", [])
    return doc


def load_trace(path: str) -> Dict[str, Any]:
    """A Chrome trace: complete events ('X': name, ts, dur [us], pid, tid) plus the
    thread/process names of metadata events ('M'). Returns {events, thread_names, process_names}."""
    doc = _read_json(path)
    if isinstance(doc, list):  # the JSON Array Format is also valid Chrome trace
        doc = {"traceEvents": doc}
    if not isinstance(doc, dict):
        raise LoadError(f"{path}: top level must be an object with traceEvents")
    evs = _require(doc, "traceEvents", list, path)
    events, threads, procs = [], {}, {}
    for i, e in enumerate(evs):
        where = f"{path}: traceEvents[{i}]"
        if not isinstance(e, dict):
            raise LoadError(f"{where}: must be an object")
        ph = e.get("ph")
        if ph == "X":
            name = _require(e, "name", str, where)
            ts = _require(e, "ts", float, where)
            dur = _require(e, "dur", float, where)
            if dur < 0:
                raise LoadError(f"{where}: dur must be >= 0")
            events.append({"name": name, "ts": ts, "dur": dur, "pid": e.get("pid", 0), "tid": e.get("tid", 0),
                           "cat": e.get("cat", "")})
        elif ph == "M":
            args = e.get("args") or {}
            if e.get("name") == "thread_name" and "name" in args:
                threads[(e.get("pid", 0), e.get("tid", 0))] = str(args["name"])
            elif e.get("name") == "process_name" and "name" in args:
                procs[e.get("pid", 0)] = str(args["name"])
    if not events:
        raise LoadError(f"{path}: no complete ('ph': 'X') events")
    return {"events": events, "thread_names": threads, "process_names": procs}


def load_published(path: str) -> Dict[str, Any]:
    """The published-results file: entries each with a citation; figures the sources do not
    give are absent, never invented."""
    doc = _read_json(path)
    schema = _require(doc, "schema", str, path)
    if schema != PUBLISHED_SCHEMA:
        raise LoadError(f"{path}: schema '{schema}' is not '{PUBLISHED_SCHEMA}'")
    sources = _require(doc, "sources", dict, path)
    entries = _require(doc, "entries", list, path)
    for i, e in enumerate(entries):
        where = f"{path}: entries[{i}]"
        _require(e, "gpu", str, where)
        _require(e, "problem", dict, where)
        src = _require(e, "source", str, where)
        if src not in sources:
            raise LoadError(f"{where}: source '{src}' is not in 'sources'")
        if "tflops" not in e and "time_us" not in e and "gbps" not in e:
            raise LoadError(f"{where}: needs one of tflops, time_us, gbps")
    return doc
