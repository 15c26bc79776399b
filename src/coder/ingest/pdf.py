"""PDF documents: the text layer read with pypdf, a page number kept for every offset.

Per page, the text layer's lines are cleaned and joined:

* Running headers and footers (a line among the first or last two of a page that
  recurs, digits aside, on at least half the pages: ``Annual Report 2023``,
  ``Page 3 of 12``) and lone page numbers are removed.
* A word hyphenated across a line break is joined (``organi-`` + ``sation``); a hyphen
  before a capital or a digit is kept (``Franco-`` + ``German``).
* Lines join into paragraphs; a paragraph ends at a blank line, before a speaker label,
  or after a short line that ends a sentence. A paragraph running over a page break
  continues unless the page ended a sentence.

Speaker turns are found as in text files. ``Document.pages`` holds where each page starts,
so each segment can cite its page ("p. 12"). A PDF without a text layer (a scan) is
refused: it needs OCR first.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.errors import InputError
from coder.ingest.model import Document
from coder.ingest.turns import build_document, match_label

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]",
                          re.IGNORECASE)
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
_SENTENCE_END = (".", "?", "!", "…", ":", '"', "”", ")")
_EDGE = 2
MAX_PAGES = 5000


def parse_pdf(path: Path | str, *, name: str,
              known_speakers: frozenset[str] = frozenset()) -> Document:
    """Read a PDF's text layer into a :class:`Document` (format ``pdf``)."""
    pages = _page_lines(path)
    if not any(any(line.strip() for line in lines) for lines in pages):
        raise InputError(f"no text layer in its {len(pages)} page(s) (a scanned PDF?): run OCR "
                         "first, e.g. `ocrmypdf in.pdf out.pdf`, then import the result")
    pages, removed = _drop_running_lines(pages)
    body, starts = _join_pages(pages)
    doc = build_document(body, name=name, fmt="pdf", known=known_speakers,
                         page_starts=starts)
    doc.detected = (f"PDF with a text layer ({len(pages)} pages"
                    + (f", {removed} running header/footer lines removed" if removed else "")
                    + "); " + doc.detected.removeprefix("PDF "))
    return doc


def _page_lines(path: Path | str) -> list[list[str]]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the user's
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError("the PDF is password-protected: save an unprotected copy")
        count = len(reader.pages)
    except InputError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError, AssertionError):  # what pypdf raises on broken files
        raise InputError("not a readable PDF file") from None
    if count == 0:
        raise InputError("empty source (a PDF with no pages)")
    if count > MAX_PAGES:
        raise InputError(f"refused: {count} pages (more than {MAX_PAGES})")
    out = []
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except Exception:  # a broken content stream: that page has no readable text
            text = ""
        out.append(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return out


def _key(line: str) -> str:
    return _DIGITS.sub("#", _SPACES.sub(" ", line.strip().lower()))


def _drop_running_lines(pages: list[list[str]]) -> tuple[list[list[str]], int]:
    """Remove lines repeated at the top or bottom of most pages, and lone page numbers.

    A line counts as running when it recurs unchanged, or when it recurs with only its
    numbers changed and those numbers follow the page number (``Page 3 of 12``).
    """
    edges: list[dict[str, str]] = []
    for lines in pages:
        content = [line for line in lines if line.strip()]
        edges.append({_key(line): line for line in content[:_EDGE] + content[-_EDGE:]})
    seen: dict[str, list[tuple[int, str]]] = {}
    for number, keys in enumerate(edges, start=1):
        for key, line in keys.items():
            seen.setdefault(key, []).append((number, line))
    with_text = sum(1 for keys in edges if keys)
    running = {k for k, where in seen.items()
               if with_text >= 3 and len(where) >= max(2, with_text / 2) and _repeats(where)}
    removed = 0
    result = []
    for lines in pages:
        content_at = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(content_at[:_EDGE] + content_at[-_EDGE:])
        kept = []
        for i, line in enumerate(lines):
            if i in edge and (_key(line) in running or _PAGE_NUMBER.fullmatch(line.strip())):
                removed += 1
                continue
            kept.append(line)
        result.append(kept)
    return result, removed


def _repeats(where: list[tuple[int, str]]) -> bool:
    """The same line on each page, or one whose numbers move with the page number."""
    if len({_SPACES.sub(" ", line.strip()) for _, line in where}) == 1:
        return True
    offsets = None
    for number, line in where:
        here = {int(d) - number for d in _DIGITS.findall(line)}
        offsets = here if offsets is None else offsets & here
        if not offsets:
            return False
    return True


def _join_pages(pages: list[list[str]]) -> tuple[str, list[int]]:
    """The pages' paragraphs as one text, and the offset where each page starts."""
    out = ""
    starts: list[int] = []
    for lines in pages:
        paragraphs = _paragraphs(lines)
        if out and paragraphs and not out.endswith(_SENTENCE_END) \
                and paragraphs[0][:1].islower():
            starts.append(len(out) + 1)  # the sentence runs on over the page break
            out += " " + paragraphs[0]
            paragraphs = paragraphs[1:]
            if paragraphs:
                out += "\n\n"
        elif out and paragraphs:
            out += "\n\n"
            starts.append(len(out))
        else:
            starts.append(len(out))
        out += "\n\n".join(paragraphs)
    return out, starts


def _paragraphs(lines: list[str]) -> list[str]:
    stripped = [_SPACES.sub(" ", line).strip() for line in lines]
    lengths = sorted(len(line) for line in stripped if line)
    typical = lengths[len(lengths) * 3 // 4] if lengths else 0
    paragraphs: list[str] = []
    current = ""
    previous = ""
    for line in stripped:
        if not line:
            if current:
                paragraphs.append(current)
            current = previous = ""
            continue
        starts_turn = match_label(line) is not None
        short_end = previous.endswith(_SENTENCE_END) and len(previous) < 0.7 * typical
        if current and (starts_turn or short_end):
            paragraphs.append(current)
            current = ""
        if not current:
            current = line
        elif _HYPHEN_END.search(current):  # organi- + sation; Franco- + German
            current = (current[:-1] if line[:1].islower() else current) + line
        else:
            current += " " + line
        previous = line
    if current:
        paragraphs.append(current)
    return paragraphs
