"""Report tables and charts: code frequencies, co-occurrence and code-by-attribute matrices.

Every table counts **coded segments** (a segment coded twice with one code counts once) of
one coder, after the same ``--where`` filters as the quote bank.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.store.db import Store

EXAMPLE_CHARS = 160


@dataclass
class Table:
    """A report table: a title, column names and rows of cells."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    examples: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class Data:
    """The coded rows and codes (codebook order) a report is made of."""

    coder: str
    codes: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def load(store: Store, coder: str, *, codes: Sequence[str] = (), theme: str | None = None,
         where: Sequence[str] = ()) -> Data:
    """``coder``'s coded segments and the codes to report on."""
    from coder.quotes import choose_codes, coded_segments, parse_where
    from coder.store.codes import list_codes

    filters = parse_where(where)
    chosen = choose_codes(store, list_codes(store), codes, theme)
    ids = {c["id"] for c in chosen}
    rows = [r for r in coded_segments(store, coder, filters) if r["code_id"] in ids]
    if not codes:
        used = {r["code_id"] for r in rows}
        chosen = [c for c in chosen if c["id"] in used]
    return Data(coder, chosen, rows)


def _segments_of(data: Data) -> dict[int, set[int]]:
    """Code id -> ids of segments coded with it."""
    out: dict[int, set[int]] = {c["id"]: set() for c in data.codes}
    for row in data.rows:
        out[row["code_id"]].add(row["segment_id"])
    return out


def frequencies(data: Data, by: str | None = None) -> Table:
    """Per code: segments, transcripts and speakers; with ``by``, segments per group."""
    from coder.quotes import attribute_value

    if by is None:
        table = Table(f"Code frequencies (coder: {data.coder})",
                      ["code", "theme", "segments", "transcripts", "speakers"], [])
        for code in data.codes:
            mine = [r for r in data.rows if r["code_id"] == code["id"]]
            table.rows.append([code["name"], code["path"].split("/")[0],
                               len({r["segment_id"] for r in mine}),
                               len({r["transcript"] for r in mine}),
                               len({r["speaker"] for r in mine if r["speaker"]})])
        return table
    groups = sorted({attribute_value(r, by) for r in data.rows}, key=_group_key)
    if data.rows and groups == ["(none)"] and by.casefold() not in ("transcript", "speaker"):
        raise CoderError(f"no speaker attribute or transcript metadata named {by!r}")
    counts: dict[tuple[int, str], set[int]] = {}
    for row in data.rows:
        counts.setdefault((row["code_id"], attribute_value(row, by)), set()).add(
            row["segment_id"])
    table = Table(f"Coded segments by {by} (coder: {data.coder})",
                  ["code", *groups, "total"], [])
    segments = _segments_of(data)
    for code in data.codes:
        cells = [len(counts.get((code["id"], g), ())) for g in groups]
        table.rows.append([code["name"], *cells, len(segments[code["id"]])])
    return table


def _group_key(value: str) -> tuple[bool, str]:
    return (value == "(none)", value.casefold())


def cooccurrence(data: Data) -> Table:
    """Segments coded with both codes (the diagonal: segments with the code)."""
    segments = _segments_of(data)
    names = [c["name"] for c in data.codes]
    table = Table(f"Code co-occurrence in segments (coder: {data.coder})", ["code", *names], [])
    for a in data.codes:
        table.rows.append([a["name"], *[len(segments[a["id"]] & segments[b["id"]])
                                        for b in data.codes]])
    return table


def matrix(data: Data, cols: str) -> Table:
    """Codes by the values of ``cols``: each cell the count of coded segments and the most
    typical one as an example (in ``Table.examples``, keyed by row and column index)."""
    from coder.quotes import attribute_value, citation, typicality

    groups = sorted({attribute_value(r, cols) for r in data.rows}, key=_group_key)
    if data.rows and groups == ["(none)"] and cols.casefold() not in ("transcript", "speaker"):
        raise CoderError(f"no speaker attribute or transcript metadata named {cols!r}")
    scores = typicality(data.rows) if data.rows else {}
    cells: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in data.rows:
        cells.setdefault((row["code_id"], attribute_value(row, cols)), []).append(row)
    table = Table(f"Codes by {cols} (coder: {data.coder}; segments, with an example)",
                  ["code", *groups], [])
    for i, code in enumerate(data.codes):
        line: list[Any] = [code["name"]]
        for j, group in enumerate(groups, start=1):
            mine = cells.get((code["id"], group), [])
            line.append(len({r["segment_id"] for r in mine}))
            if mine:
                best = min(mine, key=lambda r: (-scores[(r["segment_id"], r["code_id"])],
                                                r["transcript"], r["segment"]))
                table.examples[(i, j)] = {"text": _short(best["text"]),
                                          "citation": citation(best)}
        table.rows.append(line)
    return table


def _short(text: str) -> str:
    """The first EXAMPLE_CHARS characters, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= EXAMPLE_CHARS:
        return text
    cut = text[:EXAMPLE_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


# -- output ---------------------------------------------------------------------------------
def to_json(table: Table) -> str:
    records = table.records()
    if table.examples:
        for i, record in enumerate(records):
            for j, column in enumerate(table.columns):
                if j == 0:
                    continue
                example = table.examples.get((i, j))
                record[column] = {"count": table.rows[i][j], "example": example}
    return json.dumps({"title": table.title, "rows": records}, indent=2,
                      ensure_ascii=False) + "\n"


def _cell_text(table: Table, i: int, j: int) -> str:
    value = table.rows[i][j]
    example = table.examples.get((i, j))
    if example:
        return f"{value}: “{example['text']}” ({example['citation']})"
    return str(value)


def to_csv(table: Table) -> str:
    from coder.codings_tables import safe_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    for i, row in enumerate(table.rows):
        writer.writerow([safe_cell(row[0])] + [
            _cell_text(table, i, j) if (i, j) in table.examples else row[j]
            for j in range(1, len(row))])
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [f"## {cell(table.title)}", "", "| " + " | ".join(cell(c) for c in table.columns)
             + " |", "|" + "|".join("---" if k == 0 else "--:" for k in
                                    range(len(table.columns))) + "|"]
    for i, row in enumerate(table.rows):
        lines.append("| " + " | ".join(cell(_cell_text(table, i, j)) if j else cell(row[0])
                                       for j in range(len(row))) + " |")
    return "\n".join(lines) + "\n"


def chart(table: Table, path: Path, kind: str) -> None:
    """A PNG: horizontal bars of frequencies (``bars``) or a heat map (``heatmap``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from coder.files import write_atomic

    if not table.rows:
        raise CoderError("no coded segments to draw a chart of")
    labels = [str(r[0]) for r in table.rows]
    numeric = [j for j in range(1, len(table.columns))
               if all(isinstance(r[j], int | float) for r in table.rows)]
    values = np.array([[float(r[j]) for j in numeric] for r in table.rows]).reshape(
        len(table.rows), len(numeric))
    if kind == "bars":
        columns = [table.columns[j] for j in numeric]
        if "segments" in columns:
            values, columns = values[:, [columns.index("segments")]], ["segments"]
        elif columns and columns[-1] == "total":
            values, columns = values[:, :-1], columns[:-1]
        height = max(3.0, 0.35 * len(labels) + 1.5)
        fig, ax = plt.subplots(figsize=(9, height))
        left = np.zeros(len(labels))
        bars = []  # each column's BarContainer; the last one gets the totals as labels
        for k, column in enumerate(columns):
            bars.append(ax.barh(labels, values[:, k], left=left, label=column))
            left += values[:, k]
        ax.invert_yaxis()
        ax.set_xlabel("coded segments")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
        ax.set_xlim(0, max(float(left.max()), 1.0) * 1.12)  # room for the labels
        ax.bar_label(bars[-1], labels=[f"{v:g}" for v in left], padding=3,
                     fontsize=8)
        if len(columns) > 1:
            ax.legend(fontsize=8, loc="lower right")
    else:
        size = max(4.0, 0.45 * len(labels) + 2)
        fig, ax = plt.subplots(figsize=(size + 2, size))
        image = ax.imshow(values, cmap="Blues")
        ax.set_xticks(range(len(numeric)), [table.columns[j] for j in numeric], rotation=60,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        for (i, j), value in np.ndenumerate(values):
            if value:
                ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=7,
                        color="white" if value > values.max() / 2 else "black")
        fig.colorbar(image, ax=ax, shrink=0.6)
    ax.set_title(table.title, fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
