import os

import pytest

from conftest import FIXTURES
from tilesim_analysis import load, plots


@pytest.fixture(scope="module")
def doc():
    return load.load_report_input(os.path.join(FIXTURES, "report_input.json"))


def _artists(fig):
    return sum(len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.images) for ax in fig.axes)


def test_roofline_has_every_ceiling_and_points(doc):
    fig = plots.roofline(doc["gpus"], doc["records"])
    ax = fig.axes[0]
    labels = " ".join(line.get_label() for line in ax.lines)
    for ceiling in ("tensor", "HBM", "L2", "SMEM", "MUFU"):
        assert ceiling in labels
    assert len(ax.collections) >= 1  # kernels placed
    assert len(fig.axes) == 2  # h100 and b200 (the published B200 point)
    plots.plt.close(fig)


def test_utilization_one_bar_per_gpu_and_unit(doc):
    fig = plots.utilization(doc["utilization"])
    ax = fig.axes[0]
    # 3 GPUs x 6 units in the fixture
    assert len(ax.patches) == 18
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights[-1] == pytest.approx(95.0)
    plots.plt.close(fig)


def test_gantt_draws_every_event(doc):
    trace = load.load_trace(doc["traces"][0]["path"])
    fig = plots.gantt(trace, "t")
    assert len(fig.axes[0].patches) == len(trace["events"])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][:2] == ["producer", "consumer0"]
    plots.plt.close(fig)


def test_scatter_reports_errors(doc):
    fig = plots.scatter(doc["records"], doc["summary"])
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "MAPE" in text and "gemm" in text and "attention" in text
    plots.plt.close(fig)
    with pytest.raises(ValueError):
        plots.scatter([{"family": "gemm", "measured_us": 1.0, "predicted_us": None}], {})


def test_heatmap_uses_largest_sweep(doc):
    sw = plots.pick_sweep(doc["records"])
    assert sw["key"][0] == "gemm" and sw["x"] == "block_n" and sw["y"] == "block_m"
    assert len(sw["records"]) == 8
    fig = plots.heatmap(doc["records"])
    assert len(fig.axes[0].images) == 1
    plots.plt.close(fig)
    with pytest.raises(ValueError):
        plots.heatmap([])


def test_heatmap_model_sweep_marks_pick():
    recs = [{"schedule": "attn_fa3", "tile": {"block_m": bm, "block_n": bn, "stages": st},
             "predicted_us": 100.0 + bm * 0.1 + bn * 0.05 - st}
            for bm in (64, 128) for bn in (64, 128, 176) for st in (2, 3)]
    fig = plots.heatmap_model({"title": "t", "records": recs})
    ax = fig.axes[0]
    assert len(ax.images) == 1
    # 2 block_m x 3 block_n cells, each labelled with the best predicted time over stages
    # 100 + 0.1 bm + 0.05 bn - 3 (stages=3 is best): 64/64 -> 106.6, 64/128 -> 109.8, 64/176 -> 112.2,
    # 128/64 -> 113.0, 128/128 -> 116.2, 128/176 -> 118.6
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["107", "110", "112", "113", "116", "119"]
    star = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_xdata()[0] < 0.5 and star[0].get_ydata()[0] < 0.5  # cell (64, 64)
    plots.plt.close(fig)


def test_pick_sweeps_one_per_family_preferring_block_axes(doc):
    sws = plots.pick_sweeps(doc["records"])
    assert [sw["key"][0] for sw in sws] == ["attention", "gemm"]
    assert all(sw["x"] == "block_n" and sw["y"] == "block_m" for sw in sws)
    fig = plots.heatmap(doc["records"])
    assert sum(len(ax.images) for ax in fig.axes) == 2  # one panel per family
    plots.plt.close(fig)


def test_scaling_one_bar_per_predicted_point_and_speedups():
    study = {"title": "t", "baseline": "B200", "points": [
        {"label": "H100", "time_us": 2000.0, "bottleneck": "tensor"},
        {"label": "B200", "time_us": 1000.0, "bottleneck": "mufu"},
        {"label": "B200, mufu x2", "time_us": 800.0, "bottleneck": "tensor"},
        {"label": "B200, sms x2", "reason": "no feasible tile"}]}
    fig = plots.scaling(study)
    ax = fig.axes[0]
    assert len(ax.patches) == 3  # the unpredicted point is not drawn
    texts = [t.get_text() for t in ax.texts]
    assert any("0.50x" in t for t in texts) and any("1.25x" in t for t in texts)
    assert "not predicted: B200, sms x2" in ax.get_title()
    plots.plt.close(fig)


def test_scaling_refuses_an_empty_study():
    with pytest.raises(ValueError):
        plots.scaling({"points": [{"label": "x", "reason": "r"}]})
