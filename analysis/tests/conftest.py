"""pytest setup: tilesim_analysis importable from the source tree (no install needed)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
sys.path.insert(0, ANALYSIS)
FIXTURES = os.path.join(HERE, "fixtures")
REPO = os.path.dirname(ANALYSIS)
