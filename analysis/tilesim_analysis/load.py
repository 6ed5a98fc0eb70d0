"""Strict loaders for the JSON files the analysis reads.

- measurement files (schema tilesim.measurement.v1, data/measurements/<family>/*.json),
- the report input written by `tilesim report` (schema tilesim.report_input.v1): records
  of (problem, schedule, tile) with the measured and the predicted time,
- Chrome trace JSON written by the simulator ({"traceEvents": [...]}),
- the published-results file (data/published/*.json, schema tilesim.published.v1).

Every loader raises LoadError naming the file and the field that is wrong, never returns
half-parsed data.
"""
from __future__ import annotations

import glob
import json
import math
import os
from typing import Any, Dict, List, Optional

MEASUREMENT_SCHEMA = "tilesim.measurement.v1"
REPORT_INPUT_SCHEMA = "tilesim.report_input.v1"
PUBLISHED_SCHEMA = "tilesim.published.v1"
# Families whose runs the model predicts (microbench files feed profiles, not validation).
KERNEL_FAMILIES = ("gemm", "attention", "decode")


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


# Device names (cudaDeviceProp::name) -> built-in profile id. Ordered: "H200" must be
# tested before "H20" ("NVIDIA H20" is a prefix of nothing else, but "H200" contains "H20").
_DEVICE_IDS = (("B200", "b200"), ("H200", "h200"), ("H100", "h100"), ("H800", "h100"), ("H20", "h20"))


def gpu_id_from_device_name(name: str) -> Optional[str]:
    """'NVIDIA H100 80GB HBM3' -> 'h100'; None when the device is not a built-in profile."""
    upper = name.upper()
    if "PCIE" in upper or "NVL" in upper:  # fewer SMs / other clocks than the SXM profiles
        return None
    for token, gid in _DEVICE_IDS:
        if token in upper:
            return gid
    return None


def problem_key(problem: Dict[str, Any]) -> str:
    """A canonical, readable key for one problem (used to group a tile sweep by shape)."""
    kind = problem.get("kind", "?")
    order = {
        "gemm": ("m", "n", "k", "dtype"),
        "attention": ("batch", "heads_q", "heads_kv", "seq_q", "seq_kv", "head_dim", "causal", "dtype"),
        "decode": ("batch", "heads_q", "heads_kv", "q_per_seq", "seq_kv", "head_dim", "page_size", "dtype"),
    }.get(kind, tuple(sorted(k for k in problem if k != "kind")))
    short = {"batch": "b", "heads_q": "hq", "heads_kv": "hkv", "seq_q": "sq", "seq_kv": "skv",
             "head_dim": "d", "q_per_seq": "q", "page_size": "page"}
    parts = []
    for k in order:
        if k in problem:
            v = problem[k]
            if isinstance(v, bool):
                v = int(v)
            parts.append(f"{short.get(k, k)}={v}")
    return f"{kind} " + " ".join(parts)


def load_measurement_file(path: str) -> Dict[str, Any]:
    """One measurement file, checked: schema, family, device name, runs with median_ms > 0."""
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise LoadError(f"{path}: top level must be an object")
    schema = _require(doc, "schema", str, path)
    if schema != MEASUREMENT_SCHEMA:
        raise LoadError(f"{path}: schema '{schema}' is not '{MEASUREMENT_SCHEMA}'")
    _require(doc, "family", str, path)
    device = _require(doc, "device", dict, path)
    _require(device, "name", str, f"{path}: device")
    runs = _require(doc, "runs", list, path)
    for i, run in enumerate(runs):
        where = f"{path}: runs[{i}]"
        if not isinstance(run, dict):
            raise LoadError(f"{where}: must be an object")
        _require(run, "impl", str, where)
        _require(run, "problem", dict, where)
        if "median_ms" not in run:
            continue  # a correctness-only run (a --check file): nothing timed
        med = _require(run, "median_ms", float, where)
        if med <= 0:
            raise LoadError(f"{where}: median_ms must be > 0, got {med}")
    return doc


def load_measurements(data_dir: str, families=KERNEL_FAMILIES) -> List[Dict[str, Any]]:
    """Every run of every committed measurement file of the kernel families, flattened.

    Each row: family, gpu (profile id or None), device (name), file (relative to data_dir),
    impl, schedule, tile, problem, shape (problem_key), median_ms, check_passed, tflops, gbps.
    Runs whose correctness check failed are kept (check_passed False) so callers decide;
    correctness-only runs (no median_ms, from --check files) are left out.
    """
    mdir = os.path.join(data_dir, "measurements")
    if not os.path.isdir(mdir):
        raise LoadError(f"{mdir}: measurements folder not found")
    rows: List[Dict[str, Any]] = []
    for fam in families:
        for path in sorted(glob.glob(os.path.join(mdir, fam, "**", "*.json"), recursive=True)):
            doc = load_measurement_file(path)
            device = doc["device"]["name"]
            for run in doc["runs"]:
                if "median_ms" not in run:
                    continue  # correctness-only run
                check = run.get("check") or {}
                rows.append({
                    "family": doc["family"],
                    "gpu": gpu_id_from_device_name(device),
                    "device": device,
                    "file": os.path.relpath(path, data_dir),
                    "impl": run["impl"],
                    "schedule": run.get("schedule"),
                    "tile": run.get("tile") or {},
                    "problem": run["problem"],
                    "shape": problem_key(run["problem"]),
                    "median_ms": float(run["median_ms"]),
                    "check_passed": bool(check.get("passed", True)),
                    "tflops": run.get("tflops"),
                    "gbps": run.get("gbps"),
                })
    return rows


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
        r.setdefault("shape", problem_key(r.get("problem") or {}))
        r.setdefault("tile", {})
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
