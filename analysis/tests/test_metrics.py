import math

import pytest

from tilesim_analysis import metrics


def test_mape_and_max_error_by_hand():
    # errors: |110-100|/100 = 10%, |45-50|/50 = 10%, |240-200|/200 = 20% -> mean 13.33%
    pred, meas = [110.0, 45.0, 240.0], [100.0, 50.0, 200.0]
    assert metrics.mape(pred, meas) == pytest.approx(40.0 / 3.0)
    assert metrics.max_error(pred, meas) == pytest.approx(20.0)


def test_errors_reject_bad_points():
    with pytest.raises(ValueError):
        metrics.mape([1.0], [0.0])
    with pytest.raises(ValueError):
        metrics.mape([float("nan")], [1.0])
    with pytest.raises(ValueError):
        metrics.mape([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        metrics.mape([], [])


def test_ranks_average_ties():
    assert metrics.ranks([3.0, 1.0, 3.0, 2.0]) == [3.5, 1.0, 3.5, 2.0]


def test_spearman_known_values():
    assert metrics.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert metrics.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # one swapped pair among 4: rho = 1 - 6*sum(d^2)/(n(n^2-1)) = 1 - 6*2/60 = 0.8
    assert metrics.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    # monotone but non-linear: ranks agree exactly
    assert metrics.spearman([1, 2, 3], [1, 100, 1e6]) == pytest.approx(1.0)
    assert math.isnan(metrics.spearman([1.0], [2.0]))
    assert math.isnan(metrics.spearman([1, 1, 1], [1, 2, 3]))


def test_top_pick_regret():
    # model picks index 1 (pred 5); its measured time 12 vs best 10 -> 20% regret
    assert metrics.top_pick_regret([9.0, 5.0, 7.0], [10.0, 12.0, 11.0]) == pytest.approx(20.0)
    # model picks the measured best -> 0
    assert metrics.top_pick_regret([1.0, 2.0], [3.0, 4.0]) == pytest.approx(0.0)


def _rec(fam, shape, pred, meas, sched="s"):
    return {"family": fam, "gpu": "h100", "shape": shape, "predicted_us": pred, "measured_us": meas, "schedule": sched}


def test_by_family_and_shape_groups_and_skips_unpredicted():
    recs = [
        _rec("gemm", "A", 100.0, 100.0), _rec("gemm", "A", 90.0, 120.0), _rec("gemm", "B", 50.0, 40.0),
        _rec("gemm", "A", None, 80.0),  # no prediction: left out
        _rec("gemm", "A", 70.0, 70.0, sched=None),  # vendor library: in MAPE, not in the top pick
        _rec("attention", "C", 10.0, 10.0),
    ]
    s = metrics.by_family_and_shape(recs)
    assert set(s) == {"gemm", "attention"}
    assert s["gemm"]["n"] == 4
    # gemm errors: 0, 25, 25, 0 -> 12.5
    assert s["gemm"]["mape_pct"] == pytest.approx(12.5)
    shape_a = s["gemm"]["shapes"]["h100 A"]
    assert shape_a["n"] == 2
    # pick: pred 90 -> measured 120 vs best 100 -> 20% regret, not within 5%
    assert shape_a["top_pick_regret_pct"] == pytest.approx(20.0)
    assert shape_a["top_pick_within_5pct"] is False
    assert s["attention"]["shapes"]["h100 C"]["top_pick_within_5pct"] is True
    assert s["gemm"]["shapes"]["h100 A"]["model_pick"] == "s -"  # records without tiles


def test_median_signed_error():
    # signed errors +10%, -10%, +20% -> median +10; even count averages the middle two
    assert metrics.median_signed_error([110.0, 45.0, 240.0], [100.0, 50.0, 200.0]) == pytest.approx(10.0)
    assert metrics.median_signed_error([90.0, 120.0], [100.0, 100.0]) == pytest.approx(5.0)
