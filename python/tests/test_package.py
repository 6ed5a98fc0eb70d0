"""`import tilesim`: results as dicts, errors as exceptions with the CLI's messages."""
import math

import pytest

import tilesim

FA3_TILE = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"
ATTENTION = dict(batch=4, heads_q=16, seq_q=8192, head_dim=128)


def test_profiles_are_the_built_in_gpus():
    ids = {p["id"] for p in tilesim.profiles()}
    assert {"h100", "h200", "h20", "b200"} <= ids


def test_profile_values_carry_unit_and_source():
    p = tilesim.profile("h100")
    q = p["per_sm_per_clk"]["mufu_ex2"]
    assert q["value"] == 16 and q["unit"] and q["source"]


def test_predict_matches_the_cli():
    pr = tilesim.predict("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, **ATTENTION)
    cli = __import__("json").loads(tilesim.run("predict", "--gpu", "h100", "attention", "--batch", "4", "--heads-q",
                                               "16", "--seq-q", "8192", "--head-dim", "128", "--schedule", "attn_fa3",
                                               "--tile", FA3_TILE, "--json"))
    assert pr == cli
    assert pr["time_us"] > 0 and math.isfinite(pr["time_us"])


def test_tile_as_dict_is_the_same_tile():
    tile = dict(block_m=128, block_n=128, stages=2, consumers=2, pingpong=1, intra_overlap=1)
    a = tilesim.predict("h100", "attention", schedule="attn_fa3", tile=tile, **ATTENTION)
    b = tilesim.predict("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, **ATTENTION)
    assert a["time_us"] == b["time_us"]


def test_tune_ranks_per_gpu_fastest_first():
    r = tilesim.tune(["h100", "h20", "b200"], "attention", top=5, **ATTENTION)
    assert [g["gpu"] for g in r["gpus"]] == ["h100", "h20", "b200"]
    for g in r["gpus"]:
        times = [t["time_us"] for t in g["ranked"]]
        tol = g["rank_tie_tolerance"]
        assert times and 0 < tol < 0.05
        # fastest first up to ties: nothing later beats an earlier tile by more than the tolerance
        assert all(a <= b * (1 + tol) for a, b in zip(times, times[1:]))
        assert all(0 <= t["second_utilization"] <= 1 for t in g["ranked"])
    # H20 has under a sixth of H100's tensor throughput: its best tile is slower.
    best = {g["gpu"]: g["ranked"][0]["time_us"] for g in r["gpus"]}
    assert best["h20"] > best["h100"]


def test_causal_flag_halves_the_work():
    full = tilesim.predict("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, **ATTENTION)
    causal = tilesim.predict("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, causal=True, **ATTENTION)
    assert causal["time_us"] < 0.75 * full["time_us"]


def _stat(result, name):
    return next(s["value"] for s in result["statistics"] if s["name"] == name)


def test_simulate_long_context_states_its_error_bound():
    r = tilesim.simulate("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, batch=4, heads_q=16,
                         seq_q=131072, head_dim=128)
    assert _stat(r, "extrapolated") == 1
    assert 0 <= _stat(r, "error_bound_us") < 0.01 * _stat(r, "kernel_time_us")


def test_validate_reports_every_family():
    v = tilesim.validate()
    text = str(v)
    for family in ("gemm", "attention", "decode"):
        assert family in text


def test_usage_errors_are_value_errors_with_the_cli_message():
    with pytest.raises(tilesim.UsageError) as e:
        tilesim.predict("h100", "attention", schedule="attn_fa3", tile="block_m=1e2", **ATTENTION)
    assert isinstance(e.value, ValueError)
    rc_message = str(e.value)
    assert "block_m" in rc_message and "not a number" in rc_message
    with pytest.raises(tilesim.UsageError, match="--gpu: unknown GPU 'h999'"):
        tilesim.predict("h999", "attention", schedule="attn_fa3", tile=FA3_TILE, **ATTENTION)


def test_runtime_errors_name_what_is_wrong():
    with pytest.raises(tilesim.TilesimError, match="cannot be extrapolated") as e:
        tilesim.simulate("h100", "attention", schedule="attn_fa3", tile=FA3_TILE, batch=1, heads_q=1,
                         seq_q=1048576, head_dim=128, causal=True)
    assert not isinstance(e.value, tilesim.UsageError)
