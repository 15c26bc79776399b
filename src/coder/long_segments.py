"""A bound on segment size: a segment over :data:`MAX_SEGMENT_CHARS` is split, and said so.

One 50 MB line would otherwise be one segment: a spaCy document of millions of tokens, a
screen-filling row in the workbench and gigabytes of memory. Pieces end at the last
paragraph break, line break, sentence end or space before the bound (a hard cut only when
there is none), keep their speaker, and keep the turn's times at its two ends.
"""

from __future__ import annotations

from dataclasses import replace

from coder.store.transcripts import SegmentRow

MAX_SEGMENT_CHARS = 1_000_000
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", " ")


def _cut(text: str, limit: int) -> int:
    """Where to end the first piece of ``text`` (at most ``limit`` characters)."""
    floor = limit // 2  # a break in the second half, or pieces get too small
    for mark in _BREAKS:
        at = text.rfind(mark, floor, limit)
        if at >= 0:
            return at + len(mark)
    return limit


def split_long(rows: list[SegmentRow], limit: int = MAX_SEGMENT_CHARS
               ) -> tuple[list[SegmentRow], list[int]]:
    """Rows with every long one split, renumbered; and the (old) numbers of those split."""
    if all(len(row.text) <= limit for row in rows):
        return rows, []
    out: list[SegmentRow] = []
    split: list[int] = []
    for row in rows:
        if len(row.text) <= limit:
            out.append(replace(row, ordinal=len(out) + 1))
            continue
        split.append(row.ordinal)
        text, offset = row.text, 0
        first = True
        while offset < len(text):
            end = len(text) if len(text) - offset <= limit else offset + _cut(
                text[offset:offset + limit], limit)
            piece = text[offset:end]
            if piece.strip():
                out.append(SegmentRow(
                    ordinal=len(out) + 1, speaker=row.speaker, start=row.start + offset,
                    end=row.start + end, time_start=row.time_start if first else None,
                    time_end=row.time_end if end >= len(text) else None, text=piece,
                    page=row.page))
                first = False
            offset = end
    return out, split
