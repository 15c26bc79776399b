"""The quote bank as one self-contained HTML file (inline CSS, every text escaped)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from coder.exporters import counts_line, grouped

if TYPE_CHECKING:
    from coder.quotes import QuoteBank

_CSS = """
body { font: 16px/1.5 Georgia, serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
       color: #222; }
h1, h2, h3 { font-family: system-ui, sans-serif; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.definition { font-style: italic; color: #444; }
.counts, .memo { font: 14px system-ui, sans-serif; color: #666; }
blockquote { margin: 1em 0; padding: .2em 1em; border-left: 4px solid #88a; background: #f6f6fa; }
blockquote p { margin: .3em 0; white-space: pre-wrap; }
cite { display: block; font: 13px system-ui, sans-serif; color: #555; font-style: normal; }
"""


def render(bank: QuoteBank) -> str:
    title = f"Quote bank: {bank.study}"
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{escape(title)}</h1>",
           f'<p class="counts">Coder: {escape(bank.coder)}'
           + (f" · where {escape(', '.join(bank.where))}" if bank.where else "") + "</p>"]
    for theme, codes in grouped(bank):
        out.append(f"<h2>{escape(theme)}</h2>")
        for code in codes:
            out.append(f"<h3>{escape(code.code)}</h3>")
            if code.definition:
                out.append(f'<p class="definition">{escape(code.definition)}</p>')
            out.append(f'<p class="counts">{escape(counts_line(code))}</p>')
            out += [f'<p class="memo">Memo: {escape(m)}</p>' for m in code.memos]
            for quote in code.quotes:
                out.append(f'<blockquote id="{escape(quote.id)}"><p>{escape(quote.text)}</p>'
                           f"<cite>{escape(quote.citation)}</cite></blockquote>")
            if not code.quotes:
                out.append('<p class="counts">No coded segments.</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
