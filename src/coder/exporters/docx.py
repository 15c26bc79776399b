"""The quote bank as a Word document: headings per theme and code, a quote style, citations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coder.exporters import counts_line, grouped

if TYPE_CHECKING:
    from coder.quotes import QuoteBank

CITATION_STYLE = "Quote Citation"


def _clean(text: str) -> str:
    """Text without the control characters XML (and so Word) cannot hold."""
    return "".join(c for c in text if c in "\t\n" or ord(c) >= 32)


def save(bank: QuoteBank, path: Path) -> None:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    doc = Document()
    styles = doc.styles
    citation_style = styles.add_style(CITATION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    citation_style.base_style = styles["Normal"]
    citation_style.font.size = Pt(9)
    citation_style.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    citation_style.paragraph_format.left_indent = styles["Quote"].paragraph_format.left_indent
    doc.add_heading(_clean(f"Quote bank: {bank.study}"), level=0)
    doc.add_paragraph(_clean(f"Coder: {bank.coder}"
                             + (f" · where {', '.join(bank.where)}" if bank.where else "")))
    for theme, codes in grouped(bank):
        doc.add_heading(_clean(theme), level=1)
        for code in codes:
            doc.add_heading(_clean(code.code), level=2)
            if code.definition:
                doc.add_paragraph().add_run(_clean(code.definition)).italic = True
            doc.add_paragraph(counts_line(code))
            for memo in code.memos:
                doc.add_paragraph(_clean(f"Memo: {memo}"))
            for quote in code.quotes:
                doc.add_paragraph(_clean(quote.text), style="Quote")
                doc.add_paragraph(_clean(f"— {quote.citation}"), style=CITATION_STYLE)
            if not code.quotes:
                doc.add_paragraph("No coded segments.")
    doc.core_properties.title = _clean(f"Quote bank: {bank.study}")
    doc.save(str(path))
