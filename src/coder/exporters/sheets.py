"""The quote bank as spreadsheets: one row per coded segment and code (CSV and XLSX), and
(XLSX) a 0/1 segment-by-code sheet. Text cells are formula-neutralised."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coder.codings_tables import safe_cell

if TYPE_CHECKING:
    from coder.quotes import QuoteBank

_FIXED = ["id", "transcript", "segment", "code", "theme", "coder", "speaker"]
_AFTER = ["time", "citation", "selected_rank", "text"]


def columns(bank: QuoteBank) -> list[str]:
    return _FIXED + bank.attributes + _AFTER


def table(bank: QuoteBank) -> list[list[Any]]:
    """Rows (without the header) in document order; numbers stay numbers."""
    from coder.quotes import citation, clock, stable_id

    ranks = {(q.id, q.code): q.rank for c in bank.codes for q in c.quotes}
    out = []
    for row in bank.rows:
        ident = stable_id(row)
        cells: list[Any] = [ident, row["transcript"], row["segment"], row["code"],
                            row["theme"], bank.coder, row["speaker"]]
        cells += [row["attributes"].get(k, "") for k in bank.attributes]
        cells += [clock(row["time_start"]), citation(row), ranks.get((ident, row["code"]), ""),
                  row["text"]]
        out.append([c if isinstance(c, int) else safe_cell(c) for c in cells])
    return out


def render_csv(bank: QuoteBank) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns(bank))
    writer.writerows(table(bank))
    return buffer.getvalue()


def _xml_safe(value: Any) -> Any:
    """Text without the control characters an XLSX file cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def save_xlsx(bank: QuoteBank, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("codings")
    sheet.freeze_panes = "A2"
    sheet.append(columns(bank))
    for cells in table(bank):
        sheet.append([_xml_safe(c) for c in cells])
    matrix = book.create_sheet("segments x codes")
    matrix.freeze_panes = "A2"
    codes = [c.code for c in bank.codes]
    matrix.append(["id", "transcript", "segment", "speaker"] + [safe_cell(c) for c in codes])
    segments: dict[str, dict[str, Any]] = {}
    for row in bank.rows:
        ident = f"{row['transcript']}#{row['segment']}"
        entry = segments.setdefault(ident, {"row": row, "codes": set()})
        entry["codes"].add(row["code"])
    for ident, entry in segments.items():
        row = entry["row"]
        matrix.append([safe_cell(ident), safe_cell(row["transcript"]), row["segment"],
                       safe_cell(row["speaker"])] + [int(c in entry["codes"]) for c in codes])
    book.save(str(path))
