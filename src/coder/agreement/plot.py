"""A heat map of Krippendorff's alpha per code, for all coders and for each coder pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.files import write_figure


def heatmap(report: dict[str, Any], pairwise: dict[str, list[float | None]],
            path: Path) -> Path:
    """Write a PNG: one row per code, columns "all coders" then each pair (just the pair
    when there are two coders); red below the report's threshold, green above, grey where
    alpha is undefined. Numbers are white on dark cells, black on light ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    codes = report["codes"]
    if not codes:
        raise CoderError("no codes to plot")
    if len(pairwise) == 1:  # two coders: "all coders" would repeat the pair
        columns = [pair.replace("|", " & ") for pair in pairwise]
        data = np.array([*pairwise.values()], dtype=float).T
    else:
        columns = ["all coders", *(pair.replace("|", " & ") for pair in pairwise)]
        data = np.array([[c["krippendorff_alpha"] for c in codes], *pairwise.values()],
                        dtype=float).T
    threshold = min(max(report["threshold"], 0.01), 0.99)
    # Wide enough for the longest code name, the columns and the title (about 0.07 inch a
    # character at these font sizes), so nothing is cut off.
    longest = max(len(c["code"]) + 2 for c in codes)
    width = max(6.0, 0.065 * longest + 1.0 * len(columns) + 1.6)
    fig, ax = plt.subplots(figsize=(width, 1.4 + 0.32 * len(codes)))
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    norm = TwoSlopeNorm(vmin=0.0, vcenter=threshold, vmax=1.0)
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, aspect="auto", norm=norm)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(codes)),
                  [("▲ " if c["below_threshold"] else "") + c["code"] for c in codes], fontsize=8)
    for (row, col), value in np.ndenumerate(data):
        red, green, blue, _ = cmap(norm(max(value, 0.0))) if not np.isnan(value) else (
            0.85, 0.85, 0.85, 1)
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(col, row, "n/a" if np.isnan(value) else f"{value:.2f}", ha="center",
                va="center", fontsize=7, color="white" if dark else "black")
    unit = report["unit"]
    ax.set_title(f"Krippendorff's alpha (nominal) per code\nby {unit}; "
                 f"▲ below {report['threshold']:g}", fontsize=9, loc="left")
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, extend="min")
    bar.set_ticks(sorted({0.0, 0.5, round(threshold, 3), 1.0}))
    fig.tight_layout()

    try:
        write_figure(path, fig, dpi=120)
    finally:
        plt.close(fig)
    return path
