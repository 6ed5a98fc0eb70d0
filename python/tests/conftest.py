"""Finds the package under test: an installed tilesim (pip install .), else the CMake
build's (<build>/python, given by TILESIM_PYTHON_DIR; CTest and scripts/test.sh set it).
Not importable is a failure, never a skip."""
import os
import sys

_dir = os.environ.get("TILESIM_PYTHON_DIR")
if _dir:
    sys.path.insert(0, _dir)


import pytest


@pytest.fixture(autouse=True)
def _empty_working_directory(tmp_path, monkeypatch):
    """--gpu takes an existing path before a built-in id: a folder named h100 in the
    working directory would be read as a profile. Each test runs in an empty one."""
    monkeypatch.chdir(tmp_path)
