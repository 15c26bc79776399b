"""Tables of codings as files: one writer for the CLI and the workbench."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

# start, end and span_text are empty for a whole-segment coding; offsets are into the
# segment's text (what `coder codings import` reads back).
CODING_KEYS = ["transcript", "segment", "code", "coder", "memo", "start", "end", "span_text",
               "origin", "speaker", "created_at", "text"]
_TEXT_KEYS = {"memo", "text", "speaker", "code", "transcript", "coder", "span_text"}


def safe_cell(value: Any) -> str:
    """A spreadsheet-safe cell: text starting with = + - @ cannot become a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def codings_csv(rows: list[dict[str, Any]]) -> str:
    """Codings (as :func:`coder.store.codings.export_codings` gives them) as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CODING_KEYS)
    for row in rows:
        writer.writerow([safe_cell(row[k]) if k in _TEXT_KEYS else
                         "" if row[k] is None else row[k] for k in CODING_KEYS])
    return buffer.getvalue()


def codings_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([{k: r[k] for k in CODING_KEYS} for r in rows], indent=2,
                      ensure_ascii=False) + "\n"
