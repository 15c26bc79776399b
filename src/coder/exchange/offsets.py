"""Selection offsets: map what a file counts to positions in coder's stored text.

The standard counts Unicode code points; NVivo for Windows counts UTF-16 code units with
CRLF as two; some readers (qdpxlib) count UTF-8 bytes. coder stores text with ``\\n`` line
endings, so each is mapped through the text as it is in the file. The convention is
detected per file by checking selections against the text: starting and ending at line
boundaries, or matching the quotation text that ATLAS.ti stores in the selection's ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CONVENTIONS = ("codepoints", "utf16", "utf8")


def normalise(raw: str) -> str:
    """The text as coder stores it: ``\\n`` line endings."""
    return raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw


def _widths(raw: str, convention: str) -> Any:
    """Each character's width in the convention's units, as a numpy array."""
    import numpy as np

    points = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    width = np.ones(len(points), dtype=np.int64)
    if convention == "utf16":
        width += points > 0xFFFF
    elif convention == "utf8":
        width += (points > 0x7F).astype(np.int64) + (points > 0x7FF) + (points > 0xFFFF)
    return width


class Positions:
    """File offsets in one convention -> indexes into the stored text of ``raw``.

    A start inside a character's units (the two UTF-16 halves of a character outside the
    BMP, a UTF-8 byte sequence, or CRLF) rounds down, to the character's start; an end
    inside a character rounds up, so the selection keeps the whole character.
    """

    def __init__(self, raw: str, convention: str):
        self.map: Any = None  # unit offset -> stored-text index (None: the same)
        self.middles: Any = None  # unit offset -> inside a character
        self.limit = len(raw)
        if convention == "codepoints" and "\r" not in raw:
            return
        import numpy as np

        width = _widths(raw, convention)
        self.limit = int(width.sum())
        if "\r" not in raw and self.limit == len(raw):
            return
        # a CRLF's CR takes no place in the stored text: characters after it move back one
        cr = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype="<u4") == 13
        crlf = np.zeros(len(raw), dtype=np.int64)
        if len(raw) > 1:
            crlf[:-1] = cr[:-1] & (np.frombuffer(raw[1:].encode("utf-32-le", "surrogatepass"),
                                                 dtype="<u4") == 10)
        index = np.arange(len(raw), dtype=np.int64) - (np.cumsum(crlf) - crlf)
        unit_char = np.repeat(np.arange(len(raw), dtype=np.int64), width)
        self.map = np.append(index[unit_char], len(raw) - int(crlf.sum()))
        starts = np.append(np.r_[True, unit_char[1:] != unit_char[:-1]] if len(unit_char)
                           else np.zeros(0, dtype=bool), True)
        self.middles = ~starts

    def start(self, position: int) -> int | None:
        """Where a selection starting at ``position`` starts, None when outside the text."""
        if position < 0 or position > self.limit:
            return None
        return position if self.map is None else int(self.map[position])

    def end(self, position: int) -> int | None:
        """Where a selection ending at ``position`` ends, None when outside the text."""
        index = self.start(position)
        if index is not None and self.middles is not None and self.middles[position]:
            return index + 1
        return index


def convert(positions: Positions, limit: int, position: int) -> int | None:
    """Where a selection starting at ``position`` starts (``limit`` is ``positions.limit``;
    the signature the media import uses)."""
    return positions.start(position)


def units(raw: str, convention: str) -> int:
    """The length of ``raw`` in the convention's units."""
    if convention == "codepoints":
        return len(raw)
    return int(_widths(raw, convention).sum())


def to_units(text: str, convention: str) -> Callable[[int], int]:
    """A function from an index into ``text`` to its offset in the convention's units."""
    if convention == "codepoints":
        return lambda index: index
    import numpy as np

    offsets = np.concatenate([[0], np.cumsum(_widths(text, convention))])
    return lambda index: int(offsets[index])


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
