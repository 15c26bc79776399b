"""Selecting words inside one segment's text: by word, clause, sentence or character.

Textual-free, so the workbench's keys and the tests share it. A selection is a half-open
``[start, end)`` of the segment's text and never leaves it. Units are found with regular
expressions on the text alone (no spaCy), cached per text, so moving a selection costs
about what moving between segments does.

* word: letters and digits, with inner hyphens and apostrophes (``drive-by``, ``don't``);
* sentence: up to ``.``, ``?``, ``!`` or ``…`` (and closing quotes or brackets after them),
  or a blank line (a single line break is the wrapping of a paragraph);
* clause: a sentence cut after ``,``, ``;``, ``:`` and at dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

KINDS = ("word", "clause", "sentence")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_SENTENCE = re.compile(r".*?(?:[.?!…]+[\"'”’)\]»]*(?=\s|$)|(?=\n[ \t]*\n)|$)", re.S)
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s[—–-]\s|—")


@dataclass(frozen=True, slots=True)
class Selection:
    """``[start, end)`` of a segment's text."""

    start: int
    end: int


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


@lru_cache(maxsize=64)
def units(text: str, kind: str) -> tuple[tuple[int, int], ...]:
    """The words, clauses or sentences of ``text`` as ``(start, end)``, in order."""
    if kind == "word":
        return tuple(m.span() for m in _WORD.finditer(text))
    sentences: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        match = _SENTENCE.match(text, pos)
        end = match.end() if match else pos
        if end == pos:  # at a blank line
            pos += 1
            continue
        piece = _trimmed(text, pos, end)
        if piece:
            sentences.append(piece)
        pos = end
    if kind == "sentence":
        return tuple(sentences)
    if kind != "clause":
        raise ValueError(f"unknown unit {kind!r}")
    clauses: list[tuple[int, int]] = []
    for start, end in sentences:
        pos = start
        for match in _CLAUSE_BREAK.finditer(text, start, end):
            piece = _trimmed(text, pos, match.end() if text[match.start()] in ",;:" else
                             match.start())
            if piece:
                clauses.append(piece)
            pos = match.end()
        piece = _trimmed(text, pos, end)
        if piece:
            clauses.append(piece)
    return tuple(clauses)


def first(text: str, kind: str = "word") -> Selection | None:
    """The first unit of the text (None for a text without any)."""
    found = units(text, kind)
    if found:
        return Selection(*found[0])
    whole = _trimmed(text, 0, len(text))
    return Selection(*whole) if whole else None


def at(text: str, pos: int, kind: str = "word") -> Selection | None:
    """The unit at (or else nearest after, else before) character ``pos``."""
    found = units(text, kind)
    for start, end in found:
        if pos < end:
            return Selection(start, end)
    return Selection(*found[-1]) if found else None


def move(text: str, sel: Selection, kind: str, step: int) -> Selection:
    """The next (``step`` 1) or previous (-1) unit, as a new selection; at the edge of the
    text the selection stays."""
    found = units(text, kind)
    if step > 0:
        nxt = next((u for u in found if u[0] > sel.start), None)
    else:
        nxt = next((u for u in reversed(found) if u[0] < sel.start), None)
    return Selection(*nxt) if nxt else sel


def extend(text: str, sel: Selection, kind: str, step: int) -> Selection:
    """Grow the selection by one unit: its end to the end of the next unit (``step`` 1),
    or its start to the start of the previous one (-1)."""
    found = units(text, kind)
    if step > 0:
        end = next((u[1] for u in found if u[1] > sel.end), sel.end)
        return Selection(sel.start, end)
    start = next((u[0] for u in reversed(found) if u[0] < sel.start), sel.start)
    return Selection(start, sel.end)


def nudge(text: str, sel: Selection, edge: str, delta: int) -> Selection:
    """Move one edge (``"start"`` or ``"end"``) by ``delta`` characters; the selection
    keeps at least one character and stays inside the text."""
    start, end = sel.start, sel.end
    if edge == "end":
        end = max(start + 1, min(len(text), end + delta))
    else:
        start = min(end - 1, max(0, start + delta))
    return Selection(start, end)


def between(text: str, a: int, b: int) -> Selection | None:
    """The selection a mouse drag from character ``a`` to ``b`` makes (either direction),
    without white space at its edges."""
    low, high = sorted((max(0, min(a, len(text))), max(0, min(b, len(text)))))
    if low == high:
        high = min(len(text), high + 1)
    piece = _trimmed(text, low, high)
    return Selection(*piece) if piece else None
