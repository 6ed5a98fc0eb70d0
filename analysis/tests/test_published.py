"""The published-results file: every entry cited, and the printed time and TFLOP/s agree
under the stated FLOP convention (this catches a mistyped figure or a wrong head count)."""
import os

import pytest

from conftest import REPO, load_script
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


def test_every_source_says_how_it_timed():
    doc = load.load_published(PUBLISHED)
    for sid, s in doc["sources"].items():
        assert s["timing"]["method"], sid
        assert isinstance(s["timing"]["launch_included"], bool), sid


def _semianalysis_script():
    return load_script("published_semianalysis_gemm")


def test_semianalysis_rows_follow_the_fixed_rule():
    import csv
    import io
    mod = _semianalysis_script()
    text = ("M,N,K,TILE_M,TILE_N,TILE_K,STAGES,dtype,time_ms,TFLOPS\n"
            "128,128,131072,128,128,64,4,BF16,0.59989,7.1596\n"        # taken
            "64,256,131072,64,256,64,2,FP8_E4M3,0.878051,4.89148\n"     # taken
            "128,128,131072,128,128,64,0,BF16,0.422674,10.1614\n"       # automatic stage count
            "128,128,131072,128,128,32,4,BF16,1.0,4.294967\n"           # TILE_K 32
            "128,192,131072,128,192,64,4,BF16,1.0,6.442451\n"           # TILE_N 192
            "# BUILD_FAILED: 128x256x512,,,,,,,,,\n")
    out = mod.entries(csv.DictReader(io.StringIO(text)))
    assert [e["id"] for e in out] == ["b200-cutlass1sm-bf16-128x128x131072-s4", "b200-cutlass1sm-fp8-64x256x131072-s2"]
    assert out[0]["model_tile"]["stages"] == 4 and out[1]["problem"]["dtype"] == "fp8"
    bad = text.replace("0.59989,7.1596", "0.59989,9.0")  # a time that does not match its TFLOP/s
    with pytest.raises(AssertionError):
        mod.entries(csv.DictReader(io.StringIO(bad)))


def test_semianalysis_entries_run_their_own_tile():
    doc = load.load_published(PUBLISHED)
    rows = [e for e in doc["entries"] if e["source"] == "semianalysis-gemm-mainloop"]
    assert len(rows) == 76
    for e in rows:  # one CTA: the problem is exactly the compiled tile
        assert e["problem"]["m"] == e["model_tile"]["block_m"] and e["problem"]["n"] == e["model_tile"]["block_n"]
        assert e["model_tile"]["block_k"] == 64 and e["model_tile"]["stages"] >= 2
