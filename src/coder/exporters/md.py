"""The quote bank as Markdown: a heading per theme and code, quotes as block quotes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from coder.exporters import counts_line, grouped

if TYPE_CHECKING:
    from coder.quotes import QuoteBank

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def escape(text: str) -> str:
    """Markdown-inert text (backslash before characters that would format)."""
    return _SPECIAL.sub(r"\\\1", text)


def render(bank: QuoteBank) -> str:
    lines = [f"# Quote bank: {escape(bank.study)}", "",
             f"Coder: {escape(bank.coder)}"
             + (f" · where {escape(', '.join(bank.where))}" if bank.where else ""), ""]
    for theme, codes in grouped(bank):
        lines += [f"## {escape(theme)}", ""]
        for code in codes:
            lines += [f"### {escape(code.code)}", ""]
            if code.definition:
                lines += [f"*{escape(code.definition)}*", ""]
            lines += [counts_line(code), ""]
            for memo in code.memos:
                lines += [f"Memo: {escape(memo)}", ""]
            for quote in code.quotes:
                body = "\n> ".join(escape(quote.text).splitlines())
                lines += [f"> {body}", ">", f"> — {escape(quote.citation)}", ""]
            if not code.quotes:
                lines += ["No coded segments.", ""]
    return "\n".join(lines).rstrip() + "\n"
