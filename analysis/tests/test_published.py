"""The published-results file: every entry cited, and the printed time and TFLOP/s agree
under the stated FLOP convention (this catches a mistyped figure or a wrong head count)."""
import os

import pytest

from conftest import REPO
from tilesim_analysis import load

PUBLISHED = os.path.join(REPO, "data", "published", "published_results.json")


def flops(p):
    if p["kind"] == "attention":
        f = 4.0 * p["batch"] * p["heads_q"] * p["seq_q"] * p["seq_kv"] * p["head_dim"]
        return f / 2 if p["causal"] else f
    if p["kind"] == "attention_backward":  # the FA papers' convention: 2.5x the forward's FLOPs
        f = 2.5 * 4.0 * p["batch"] * p["heads_q"] * p["seq_q"] * p["seq_kv"] * p["head_dim"]
        return f / 2 if p["causal"] else f
    if p["kind"] == "gemm":
        return 2.0 * p["m"] * p["n"] * p["k"]
    if p["kind"] == "mla":
        return 2.0 * p["batch"] * p["q_per_seq"] * p["heads_q"] * p["seq_kv"] * (p["head_dim"] + p["head_dim_v"])
    raise AssertionError(f"unknown kind {p['kind']}")


def test_published_file_loads_and_cites():
    doc = load.load_published(PUBLISHED)
    # H800 results are predicted on the H100 profile (same SM, cut NVLink).
    assert {e["gpu"] for e in doc["entries"]} == {"b200", "h20", "h800"}
    for sid, s in doc["sources"].items():
        assert s["url"].startswith("https://"), sid
        assert s["section"], sid
    assert doc["not_found"], "what could not be found is listed"


def test_time_and_tflops_agree():
    doc = load.load_published(PUBLISHED)
    for e in doc["entries"]:
        derived = flops(e["problem"]) / (e["time_us"] * 1e-6) / 1e12
        # times are printed with 2-3 significant digits (0.27 ms): allow 6%
        assert derived == pytest.approx(e["tflops"], rel=0.06), e["id"]


def test_bad_published_file(tmp_path):
    p = tmp_path / "p.json"
    p.write_text('{"schema": "tilesim.published.v1", "sources": {}, "entries": [{"gpu": "h20", "problem": {}, '
                 '"source": "nope", "tflops": 1}]}')
    with pytest.raises(load.LoadError, match="source 'nope'"):
        load.load_published(str(p))
