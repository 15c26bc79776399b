"""Split speaker turns into paragraphs at blank lines."""

from __future__ import annotations

import re

from coder.ingest.model import Turn

# a newline, then one or more lines holding only whitespace
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")


def split_paragraphs(text: str, turns: list[Turn]) -> list[Turn]:
    """Split each turn at blank lines into paragraphs with exact, stripped offsets.

    Each piece keeps the turn's speaker; ``time_start`` goes on the first piece and
    ``time_end`` on the last (the times are the turn's, not the paragraph's).
    """
    result: list[Turn] = []
    for turn in turns:
        pieces: list[Turn] = []
        start = turn.start
        for m in _BLANK_LINES.finditer(text, turn.start, turn.end):
            _add(text, start, m.start(), turn.speaker, pieces)
            start = m.end()
        _add(text, start, turn.end, turn.speaker, pieces)
        if pieces:
            pieces[0].time_start = turn.time_start
            pieces[-1].time_end = turn.time_end
        result.extend(pieces)
    return result


def _add(text: str, start: int, end: int, speaker: str | None, pieces: list[Turn]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        pieces.append(Turn(speaker, start, end))
