"""scripts/operand_stream_queue.py: the closed-queue law of the GEMM operand stream."""
import json
import os

import pytest

from conftest import REPO, load_script


def _script():
    return load_script("operand_stream_queue")


def test_one_customer_sees_think_plus_service():
    mod = _script()
    assert mod.mva_throughput(1, 1000.0, 200.0) == pytest.approx(1.0 / 1200.0)


def test_many_customers_saturate_the_server():
    mod = _script()
    # 1000 customers, think 1000, service 10: the server bounds throughput at 1/10.
    assert mod.mva_throughput(1000, 1000.0, 10.0) == pytest.approx(0.1, rel=1e-3)


def test_the_committed_h100_stream_follows_the_law():
    mod = _script()
    path = os.path.join(REPO, "data", "measurements", "microbench", "2026-11-28_h100_operand_stream.json")
    with open(path) as f:
        run = json.load(f)
    rate, rows = mod.stream_rows(run, path)
    assert len(rows) >= 100
    mean, z0, z1, worst, floor = mod.fit(rate, rows)
    # The unloaded latency lies above the pointer-chase HBM latency (691 cycles) and the fit
    # holds on average (microbench/README.md, Findings, item 10).
    assert 691 < z0 + 64 * z1 < 2000
    assert mean < 0.08


def test_a_run_without_the_stream_is_refused():
    mod = _script()
    with pytest.raises(ValueError, match="operand_stream"):
        mod.stream_rows({"benchmarks": [{"name": "hbm/read", "aggregate_name": "median", "bytes_per_s": 3e12}]}, "x.json")
