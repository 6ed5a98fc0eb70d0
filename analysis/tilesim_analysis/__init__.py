"""tilesim analysis: read what `tilesim report` wrote (records, the C++ accuracy summary,
traces), draw the report's figures (matplotlib, Agg) and write a self-contained HTML report.
Every figure of merit (MAPE, max error, Spearman, top-pick regret) is computed once, in C++
(`tilesim validate`); this package only shows it.

Modules: load (JSON inputs, strict), plots (roofline, utilization, Gantt, scatter, heat map),
report (the HTML report CLI).
"""

__all__ = ["load", "plots", "report"]
