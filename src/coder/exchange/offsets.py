"""Selection offsets: map what a file counts to positions in coder's stored text.

The standard counts Unicode code points; NVivo for Windows counts UTF-16 code units with
CRLF as two; some readers (qdpxlib) count UTF-8 bytes. coder stores text with ``\\n`` line
endings, so each is mapped through the text as it is in the file. The convention is
detected per file by checking selections against the text: starting and ending at line
boundaries, or matching the quotation text that ATLAS.ti stores in the selection's ``name``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

CONVENTIONS = ("codepoints", "utf16", "utf8")


def normalise(raw: str) -> str:
    """The text as coder stores it: ``\\n`` line endings."""
    return raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw


def width(ch: str, convention: str) -> int:
    """How many units of the convention one character takes."""
    if convention == "utf16":
        return 2 if ord(ch) > 0xFFFF else 1
    if convention == "utf8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


class Positions:
    """File offsets in one convention -> indexes into the stored text of ``raw``.

    A start inside a character's units (the two UTF-16 halves of a character outside the
    BMP, a UTF-8 byte sequence, or CRLF) rounds down, to the character's start; an end
    inside a character rounds up, so the selection keeps the whole character.
    """

    def __init__(self, raw: str, convention: str):
        wide = convention != "codepoints" and any(width(ch, convention) > 1 for ch in raw)
        self.limit = units(raw, convention)
        self.map: array | None = None
        self.middles: set[int] = set()  # unit offsets inside a character
        if "\r" not in raw and not wide:
            return
        out = array("l")
        index, length = 0, len(raw)
        for i, ch in enumerate(raw):
            out.append(index)
            for _ in range(width(ch, convention) - 1 if wide else 0):
                self.middles.add(len(out))
                out.append(index)
            if not (ch == "\r" and i + 1 < length and raw[i + 1] == "\n"):
                index += 1
        out.append(index)
        self.map = out

    def start(self, position: int) -> int | None:
        """Where a selection starting at ``position`` starts, None when outside the text."""
        if position < 0 or position > self.limit:
            return None
        return position if self.map is None else self.map[position]

    def end(self, position: int) -> int | None:
        """Where a selection ending at ``position`` ends, None when outside the text."""
        index = self.start(position)
        return index + 1 if index is not None and position in self.middles else index


def units(raw: str, convention: str) -> int:
    """The length of ``raw`` in the convention's units."""
    if convention == "utf16":
        return len(raw) + sum(1 for ch in raw if ord(ch) > 0xFFFF)
    if convention == "utf8":
        return len(raw.encode("utf-8", "surrogatepass"))
    return len(raw)


def to_units(text: str, convention: str) -> Callable[[int], int]:
    """A function from an index into ``text`` to its offset in the convention's units."""
    if convention == "codepoints":
        return lambda index: index
    from itertools import accumulate

    offsets = array("l", accumulate((width(ch, convention) for ch in text), initial=0))
    return offsets.__getitem__


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
            text, positions = normalise(raw), Positions(raw, convention)
            mapped = []
            for start, end, name in spans:
                a, b = positions.start(start), positions.end(end)
                if a is None or b is None:
                    score -= 10
                else:
                    mapped.append((a, b, name))
            score += _score(text, mapped)
        if best_score is None or score > best_score:
            best, best_score = convention, score
    return best
