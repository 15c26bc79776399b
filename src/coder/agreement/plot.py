"""A heat map of Krippendorff's alpha per code, for all coders and for each coder pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.files import write_figure


def heatmap(report: dict[str, Any], pairwise: dict[str, list[float | None]],
            path: Path) -> Path:
    """Write a PNG: one row per code, columns "all coders" then each pair; red below the
    report's threshold, green above, grey where alpha is undefined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    codes = report["codes"]
    if not codes:
        raise CoderError("no codes to plot")
    columns = ["all coders", *pairwise]
    data = np.array([[c["krippendorff_alpha"] for c in codes], *pairwise.values()],
                    dtype=float).T
    threshold = min(max(report["threshold"], 0.01), 0.99)
    fig, ax = plt.subplots(figsize=(3.5 + 1.1 * len(columns), 1.2 + 0.32 * len(codes)))
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, aspect="auto",
                      norm=TwoSlopeNorm(vmin=0.0, vcenter=threshold, vmax=1.0))
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(codes)),
                  [("▲ " if c["below_threshold"] else "") + c["code"] for c in codes], fontsize=8)
    for (row, col), value in np.ndenumerate(data):
        ax.text(col, row, "n/a" if np.isnan(value) else f"{value:.2f}", ha="center",
                va="center", fontsize=7)
    unit = report["unit"]
    ax.set_title(f"Krippendorff's alpha (nominal) per code, by {unit}; "
                 f"▲ below {report['threshold']:g}", fontsize=9)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, extend="min")
    bar.set_ticks(sorted({0.0, 0.5, round(threshold, 3), 1.0}))
    fig.tight_layout()

    try:
        write_figure(path, fig, dpi=120)
    finally:
        plt.close(fig)
    return path
