import base64
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ANALYSIS, FIXTURES
from tilesim_analysis import load, report

INPUT = os.path.join(FIXTURES, "report_input.json")
FIGURES = ("roofline", "utilization", "scaling", "gantt_0", "scatter", "counters", "heatmap")


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ANALYSIS)
    return subprocess.run([sys.executable, "-m", "tilesim_analysis.report", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "report"
    p = _run("--input", INPUT, "--out", str(out), "--require-all")
    return out, p


def test_report_exit_code_and_progress(built):
    out, p = built
    assert p.returncode == 0, p.stderr
    assert f"[1/{len(FIGURES)}]" in p.stderr and "wrote" in p.stderr


def test_every_figure_exists_and_is_non_empty(built):
    out, _ = built
    for name in FIGURES:
        png = out / "figures" / f"{name}.png"
        svg = out / "figures" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 5000, name
        assert b"<svg" in svg.read_bytes()[:2000], name


def test_html_is_self_contained(built):
    out, _ = built
    page = (out / "report.html").read_text()
    imgs = page.count('src="data:image/png;base64,')
    assert imgs == len(FIGURES)
    assert 'src="http' not in page and "<script" not in page and "<link" not in page
    # the embedded PNG is the same as the saved one
    start = page.index("data:image/png;base64,") + len("data:image/png;base64,")
    b64 = page[start:page.index('"', start)]
    assert base64.b64decode(b64)[:4] == b"\x89PNG"
    assert "per_iteration_overhead_cycles" in page  # calibration table
    assert "fixture published" in page  # published table


def test_metrics_json_is_the_cpp_summary(built):
    out, _ = built
    m = json.loads((out / "metrics.json").read_text())
    summary = load.load_report_input(INPUT)["summary"]
    for fam in ("gemm", "attention"):
        assert m["measured"][fam]["mape_pct"] == pytest.approx(summary["measured"][fam]["mape_pct"])
    assert m["figures"] == list(FIGURES)


def test_missing_input_fails_cleanly(tmp_path):
    out = tmp_path / "r"
    p = _run("--input", str(tmp_path / "nope.json"), "--out", str(out))
    assert p.returncode == 1 and "not found" in p.stderr
    assert not out.exists()


def test_unwritable_output_fails_cleanly(tmp_path):
    p = _run("--input", INPUT, "--out", str(tmp_path / "no" / "such" / "dir"))
    assert p.returncode == 1 and "does not exist" in p.stderr
    f = tmp_path / "file"
    f.write_text("x")
    p = _run("--input", INPUT, "--out", str(f))
    assert p.returncode == 1 and "not a folder" in p.stderr


def test_require_all_fails_without_leaving_a_partial_report(tmp_path):
    doc = json.load(open(INPUT))
    doc["traces"] = []
    inp = tmp_path / "in.json"
    inp.write_text(json.dumps(doc))
    out = tmp_path / "rep"
    p = _run("--input", str(inp), "--out", str(out), "--require-all")
    assert p.returncode == 1 and "gantt_0" in p.stderr
    assert not out.exists()
    assert [x for x in os.listdir(tmp_path) if x.startswith(".tilesim-report-")] == []
    # without --require-all the report is written and says which figure is missing
    p = _run("--input", str(inp), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "not drawn" in (out / "report.html").read_text()
    assert not (out / "figures" / "gantt_0.png").exists()
