"""pytest setup: tilesim_analysis importable from the source tree (no install needed)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
sys.path.insert(0, ANALYSIS)
FIXTURES = os.path.join(HERE, "fixtures")
REPO = os.path.dirname(ANALYSIS)


def load_script(name):
    """The module of scripts/<name>.py (the repository's scripts are not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "scripts", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
