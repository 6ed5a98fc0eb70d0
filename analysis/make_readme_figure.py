"""Redraws the README's figure (analysis/figures/accuracy_scatter.png) from a report input.

    tilesim report --out /tmp/r && python3 analysis/make_readme_figure.py /tmp/r/report_input.json

Small on purpose (80 dpi): it is committed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tilesim_analysis import load, plots  # noqa: E402


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    doc = load.load_report_input(sys.argv[1])
    fig = plots.scatter(doc["records"], doc["summary"])
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures", "accuracy_scatter.png")
    fig.savefig(out, dpi=80)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
