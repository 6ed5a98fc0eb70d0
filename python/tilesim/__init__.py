"""tilesim from Python: GPU profiles, the analytic model (predict, tune), the event
simulator and validate, with results as dicts (the CLI's --json documents) and errors as
exceptions carrying the CLI's messages.

    import tilesim
    ranked = tilesim.tune(["h100", "h20", "b200"], "attention", batch=4, heads_q=16, seq_q=8192, head_dim=128)
    for gpu in ranked["gpus"]:
        print(gpu["gpu"], gpu["ranked"][0]["schedule"], gpu["ranked"][0]["time_us"])

Problem options are keyword arguments named as the CLI's (heads_q for --heads-q; True for
a flag such as causal). Every call runs the C++ core in-process (tilesim._core).
"""
import json
import os

from . import _core

__all__ = ["TilesimError", "UsageError", "profiles", "profile", "predict", "tune", "simulate", "validate", "run"]

# Exit codes of the CLI (cli/command.hpp).
_EXIT_USAGE = 2


class TilesimError(RuntimeError):
    """A runtime failure (the CLI's exit 1): a bad profile or constants file, a
    simulation refused as too large, unreadable measurements."""


class UsageError(TilesimError, ValueError):
    """Bad input (the CLI's exit 2): unknown GPU or schedule, a malformed or infeasible
    tile, an invalid problem size."""


# Data that is not embedded (validate's measurements) ships in the wheel under share/;
# an explicit TILESIM_DATA_DIR wins.
_share = os.path.join(os.path.dirname(os.path.abspath(__file__)), "share")
if "TILESIM_DATA_DIR" not in os.environ and os.path.isdir(os.path.join(_share, "data")):
    os.environ["TILESIM_DATA_DIR"] = _share


def _message(command, err):
    """The CLI's error line without its "tilesim <command>: error: " prefix."""
    prefix = "tilesim %s: error: " % command
    lines = [ln for ln in err.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(prefix):
            return ln[len(prefix):]
    return "\n".join(lines) or "tilesim %s failed" % command


def run(*args):
    """Runs `tilesim <args>` in-process and returns its standard output; raises UsageError
    (exit 2) or TilesimError (exit 1) with the CLI's message."""
    argv = [str(a) for a in args]
    rc, out, err = _core.run(argv)
    if rc != 0:
        command = argv[0] if argv else "tilesim"
        raise (UsageError if rc == _EXIT_USAGE else TilesimError)(_message(command, err))
    return out


def _json(*args):
    return json.loads(run(*args, "--json"))


def _problem(kind, problem):
    """("attention", {"batch": 4, "causal": True}) -> ["attention", "--batch", "4", "--causal"]."""
    argv = [kind]
    for key, value in problem.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        else:
            argv += [flag, str(value)]
    return argv


def _gpu(gpu):
    return gpu if isinstance(gpu, str) else ",".join(gpu)


def _tile(tile):
    if isinstance(tile, dict):
        return ",".join("%s=%s" % (k, v) for k, v in tile.items())
    return tile


def _options(**opts):
    argv = []
    for key, value in opts.items():
        if value is not None:
            argv += ["--" + key, str(value)]
    return argv


def profiles():
    """The built-in GPU profiles: a list of dicts (id, name, arch, ...)."""
    return _json("gpus")


def profile(name):
    """Every value of one profile (built-in id or a profile JSON path), with unit and source."""
    return _json("gpus", "show", name)


def predict(gpu, kind, *, schedule, tile, scale=None, constants=None, **problem):
    """The analytic model's prediction of one tile: time, bottleneck, per-unit utilization."""
    return _json("predict", "--gpu", gpu, *_problem(kind, problem), "--schedule", schedule,
                 "--tile", _tile(tile), *_options(scale=scale, constants=constants))


def tune(gpu, kind, *, schedule=None, top=10, scale=None, constants=None, **problem):
    """Every feasible tile ranked by predicted time, per GPU (a name or a list of names):
    {"problem": ..., "gpus": [{"gpu": ..., "rank_tie_tolerance": ..., "ranked": [...]}, ...]}.
    Times within rank_tie_tolerance of their group's fastest tie and rank by
    second_utilization (the second-busiest unit, least busy first)."""
    return _json("tune", "--gpu", _gpu(gpu), *_problem(kind, problem),
                 *_options(schedule=schedule, top=top, scale=scale, constants=constants))


def simulate(gpu, kind, *, schedule, tile, scale=None, constants=None, **problem):
    """The event simulator's run of one tile: statistics (time, error bound when
    extrapolated), unit busy fractions, stalls, and the model's prediction beside it."""
    return _json("simulate", "--gpu", gpu, *_problem(kind, problem), "--schedule", schedule,
                 "--tile", _tile(tile), *_options(scale=scale, constants=constants))


def validate():
    """The model's error on every committed measurement, per kernel family."""
    return _json("validate")
