import json
import os

import pytest

from conftest import FIXTURES
from tilesim_analysis import load


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


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


def test_report_input_needs_the_cpp_summary(tmp_path):
    doc = json.load(open(os.path.join(FIXTURES, "report_input.json")))
    assert doc["summary"]["measured"]["gemm"]["n"] > 0
    del doc["summary"]["published"]
    with pytest.raises(load.LoadError, match="summary.*published"):
        load.load_report_input(_write(tmp_path, "t.json", doc))
    del doc["summary"]
    with pytest.raises(load.LoadError, match="summary"):
        load.load_report_input(_write(tmp_path, "u.json", doc))


