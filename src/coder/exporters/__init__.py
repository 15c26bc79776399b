"""Writers for quote banks: json, md, docx, html, csv and xlsx; every file written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coder.errors import CoderError
from coder.files import write_atomic, write_text  # noqa: F401  (re-exported for the writers)

if TYPE_CHECKING:
    from coder.quotes import QuoteBank

FORMATS = ("md", "docx", "html", "csv", "xlsx", "json")
SUFFIX = {"md": ".md", "docx": ".docx", "html": ".html", "csv": ".csv", "xlsx": ".xlsx",
          "json": ".json"}


def render_json(bank: QuoteBank) -> str:
    import json

    return json.dumps(bank.to_json(), indent=2, ensure_ascii=False) + "\n"


def render(bank: QuoteBank, fmt: str) -> str:
    """A text format (json, md, html, csv) as a string."""
    if fmt == "json":
        return render_json(bank)
    if fmt == "md":
        from coder.exporters.md import render as md

        return md(bank)
    if fmt == "html":
        from coder.exporters.html import render as html

        return html(bank)
    if fmt == "csv":
        from coder.exporters.sheets import render_csv

        return render_csv(bank)
    raise CoderError(f"{fmt} is not a text format; give a file name with --out")


def write_bank(bank: QuoteBank, fmt: str, path: Path) -> None:
    """Write ``bank`` as ``fmt`` to ``path``."""
    if fmt == "xlsx":
        from coder.exporters.sheets import save_xlsx

        write_atomic(path, lambda tmp: save_xlsx(bank, tmp))
    elif fmt == "docx":
        from coder.exporters.docx import save

        write_atomic(path, lambda tmp: save(bank, tmp))
    elif fmt in FORMATS:
        write_text(path, render(bank, fmt))
    else:
        raise CoderError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


def grouped(bank: QuoteBank) -> list[tuple[str, list]]:
    """Code banks grouped by theme, themes in codebook order."""
    out: list[tuple[str, list]] = []
    for code in bank.codes:
        if not out or out[-1][0] != code.theme:
            out.append((code.theme, []))
        out[-1][1].append(code)
    return out


def counts_line(code) -> str:
    """``12 segments · 3 transcripts · 5 speakers``."""
    def n(count: int, noun: str) -> str:
        return f"{count} {noun}{'' if count == 1 else 's'}"

    return " · ".join([n(code.segments, "segment"), n(code.transcripts, "transcript"),
                       n(code.speakers, "speaker")])
