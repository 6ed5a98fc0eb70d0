import json
import os

import pytest

from conftest import FIXTURES
from tilesim_analysis import load

DATA = os.path.join(FIXTURES, "data")


def test_device_names_map_to_profiles():
    assert load.gpu_id_from_device_name("NVIDIA H100 80GB HBM3") == "h100"
    assert load.gpu_id_from_device_name("NVIDIA H200") == "h200"  # not h20
    assert load.gpu_id_from_device_name("NVIDIA H20") == "h20"
    assert load.gpu_id_from_device_name("NVIDIA B200") == "b200"
    assert load.gpu_id_from_device_name("NVIDIA A100-SXM4-80GB") is None
    assert load.gpu_id_from_device_name("NVIDIA H100 PCIe") is None  # 114 SMs: not the SXM profile


def test_problem_key_is_canonical():
    a = load.problem_key({"kind": "gemm", "dtype": "bf16", "k": 3, "n": 2, "m": 1})
    assert a == "gemm m=1 n=2 k=3 dtype=bf16"
    assert "causal=1" in load.problem_key({"kind": "attention", "causal": True, "head_dim": 64})


def test_load_fixture_measurements():
    rows = load.load_measurements(DATA)
    fams = {r["family"] for r in rows}
    assert fams == {"gemm", "attention"}
    gemm = [r for r in rows if r["family"] == "gemm"]
    assert len(gemm) == 18  # 2 shapes x 8 tiles + 2 cuBLAS runs
    assert all(r["gpu"] == "h100" and r["median_ms"] > 0 for r in rows)
    assert sum(1 for r in gemm if r["impl"] == "cublas") == 2
    assert all(r["file"].startswith("measurements/") for r in rows)


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


def test_bad_measurement_files_name_the_field(tmp_path):
    good = json.load(open(os.path.join(DATA, "measurements", "gemm", "fixture_h100_gemm.json")))
    bad = dict(good, schema="other")
    with pytest.raises(load.LoadError, match="schema"):
        load.load_measurement_file(_write(tmp_path, "a.json", bad))
    runs = [dict(good["runs"][0], median_ms="fast")]
    with pytest.raises(load.LoadError, match=r"runs\[0\].*median_ms"):
        load.load_measurement_file(_write(tmp_path, "b.json", dict(good, runs=runs)))
    runs = [dict(good["runs"][0], median_ms=-1.0)]
    with pytest.raises(load.LoadError, match="median_ms must be > 0"):
        load.load_measurement_file(_write(tmp_path, "c.json", dict(good, runs=runs)))
    with pytest.raises(load.LoadError, match="not valid JSON"):
        load.load_measurement_file(_write(tmp_path, "d.json", "{"))
    with pytest.raises(load.LoadError, match="not found"):
        load.load_measurement_file(str(tmp_path / "missing.json"))
    with pytest.raises(load.LoadError, match="measurements folder not found"):
        load.load_measurements(str(tmp_path))


def test_trace_loader():
    t = load.load_trace(os.path.join(FIXTURES, "trace.json"))
    # 6 iterations x (1 load + 2 warpgroups x (3 ops + tensor + mufu unit events))
    assert len(t["events"]) == 6 * 11
    assert t["thread_names"][(0, 0)] == "producer"
    assert all(e["dur"] >= 0 for e in t["events"])


def test_trace_loader_rejects_bad(tmp_path):
    with pytest.raises(load.LoadError, match="no complete"):
        load.load_trace(_write(tmp_path, "t.json", {"traceEvents": [{"ph": "M", "name": "thread_name"}]}))
    with pytest.raises(load.LoadError, match="dur"):
        load.load_trace(_write(tmp_path, "u.json", {"traceEvents": [{"ph": "X", "name": "a", "ts": 0}]}))
    # the JSON array form is valid Chrome trace
    t = load.load_trace(_write(tmp_path, "v.json", [{"ph": "X", "name": "a", "ts": 0, "dur": 1}]))
    assert len(t["events"]) == 1


def test_report_input_loader_checks_records(tmp_path):
    doc = json.load(open(os.path.join(FIXTURES, "report_input.json")))
    loaded = load.load_report_input(os.path.join(FIXTURES, "report_input.json"))
    assert os.path.isabs(loaded["traces"][0]["path"])
    doc["records"][0]["predicted_us"] = -3.0
    with pytest.raises(load.LoadError, match="predicted_us"):
        load.load_report_input(_write(tmp_path, "r.json", doc))
    doc["records"][0]["predicted_us"] = 1.0
    del doc["records"][0]["measured_us"]
    with pytest.raises(load.LoadError, match=r"records\[0\].*measured_us"):
        load.load_report_input(_write(tmp_path, "s.json", doc))


def test_untimed_runs_are_left_out(tmp_path):
    good = json.load(open(os.path.join(DATA, "measurements", "gemm", "fixture_h100_gemm.json")))
    untimed = {k: v for k, v in good["runs"][0].items() if k != "median_ms"}
    d = tmp_path / "measurements" / "gemm"
    d.mkdir(parents=True)
    (d / "check.json").write_text(json.dumps(dict(good, runs=[untimed, good["runs"][1]])))
    rows = load.load_measurements(str(tmp_path))
    assert len(rows) == 1 and rows[0]["median_ms"] == good["runs"][1]["median_ms"]


def test_committed_measurements_load():
    from conftest import REPO
    rows = load.load_measurements(os.path.join(REPO, "data"))
    assert all(r["median_ms"] > 0 for r in rows)
