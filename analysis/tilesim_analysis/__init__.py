"""tilesim analysis: load measurements / predictions / traces, compute the model's error
figures, draw the report's figures (matplotlib, Agg) and write a self-contained HTML report.

Modules: load (JSON inputs, strict), metrics (MAPE, max error, Spearman, top-pick regret),
plots (roofline, utilization, Gantt, scatter, heat map), report (the HTML report CLI).
"""

__all__ = ["load", "metrics", "plots", "report"]
