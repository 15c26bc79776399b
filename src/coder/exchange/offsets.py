"""Selection offsets: map what a file counts to positions in coder's stored text.

The standard counts Unicode code points; NVivo for Windows counts UTF-16 code units with
CRLF as two. coder stores text with ``\\n`` line endings, so both are mapped through the
text as it is in the file. The convention is detected per file by checking selections
against the text: starting and ending at line boundaries, or matching the quotation text
that ATLAS.ti stores in the selection's ``name``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

CONVENTIONS = ("codepoints", "utf16")


def normalise(raw: str) -> str:
    """The text as coder stores it: ``\\n`` line endings."""
    return raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw


def position_map(raw: str, convention: str) -> array | None:
    """``map[unit]`` = index into :func:`normalise` (``raw``); None when it is the identity."""
    wide = convention == "utf16" and any(ord(ch) > 0xFFFF for ch in raw)
    if "\r" not in raw and not wide:
        return None
    out = array("l")
    index = 0
    length = len(raw)
    for i, ch in enumerate(raw):
        out.append(index)
        if wide and ord(ch) > 0xFFFF:
            out.append(index)
        if not (ch == "\r" and i + 1 < length and raw[i + 1] == "\n"):
            index += 1
    out.append(index)
    return out


def units(raw: str, convention: str) -> int:
    """The length of ``raw`` in the convention's units."""
    if convention == "utf16":
        return len(raw) + sum(1 for ch in raw if ord(ch) > 0xFFFF)
    return len(raw)


def convert(mapping: array | None, limit: int, position: int) -> int | None:
    """A file offset as an index into the stored text, or None when outside the text."""
    if position < 0 or position > limit:
        return None
    return position if mapping is None else mapping[position]


def _score(text: str, spans: Iterable[tuple[int, int, str]]) -> int:
    score = 0
    for start, end, name in spans:
        if start == 0 or text[start - 1] == "\n":
            score += 1
        if end == len(text) or text[end] == "\n":
            score += 1
        quote = " ".join(name.split()).rstrip("…").strip()
        if len(quote) >= 8 and " ".join(text[start:end].split()).startswith(quote[:40]):
            score += 4
    return score


def detect(sources: list[tuple[str, list[tuple[int, int, str]]]]) -> str:
    """The convention that fits the selections of these (raw text, selections) best.

    Ties (for example a file without CRLF or characters outside the BMP, where both
    conventions agree) go to code points, the standard's.
    """
    best, best_score = "codepoints", None
    for convention in CONVENTIONS:
        score = 0
        for raw, spans in sources:
            text, mapping = normalise(raw), position_map(raw, convention)
            limit = units(raw, convention)
            mapped = []
            for start, end, name in spans:
                a, b = convert(mapping, limit, start), convert(mapping, limit, end)
                if a is None or b is None:
                    score -= 10
                else:
                    mapped.append((a, b, name))
            score += _score(text, mapped)
        if best_score is None or score > best_score:
            best, best_score = convention, score
    return best
