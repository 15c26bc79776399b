"""The charts a report uses: titles whole, numbers readable, no repeated columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.reports import Table


@pytest.fixture
def figures(monkeypatch):
    """The figures coder saves (still saved for real), to look inside them."""
    from matplotlib.figure import Figure

    saved: list[Figure] = []
    real = Figure.savefig

    def savefig(self, *args, **kwargs):
        saved.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def _report(codes):
    return {"codes": [{"code": name, "krippendorff_alpha": a, "below_threshold": a < 0.667}
                      for name, a in codes], "threshold": 0.667, "unit": "segment"}


def test_the_heat_map_of_two_coders_has_one_column_readable_numbers_and_its_whole_title(
        tmp_path: Path, figures):
    from coder.agreement.plot import heatmap

    codes = [("leadership vision and communication", 0.05), ("staffing models", 0.95)]
    path = heatmap(_report(codes), {"ana|bo": [0.05, 0.95]}, tmp_path / "a.png")
    assert path.stat().st_size > 1000
    fig = figures[-1]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ana & bo"]  # no "all coders"
    colors = {t.get_text(): t.get_color() for t in ax.texts}
    assert colors["0.05"] == "white" and colors["0.95"] == "white"  # dark red, dark green
    fig.canvas.draw()
    title = ax.title.get_window_extent()
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width  # not cut off


def test_frequency_bars_have_whole_number_ticks_room_and_value_labels(tmp_path, figures):
    from coder.reports import chart

    table = Table("Coded segments", ["code", "segments"],
                  [["need targeted PD", 3], ["equity", 1]])
    chart(table, tmp_path / "f.png", "bars")
    ax = figures[-1].axes[0]
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert all(float(t).is_integer() for t in ticks)
    assert ax.get_xlim()[1] > 3  # the longest bar does not touch the frame
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3"]
