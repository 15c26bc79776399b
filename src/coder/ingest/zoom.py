"""Zoom's "saved closed captions" (``.txt``): ``[Name] 19:00:25`` headers, words below.

The speaker is the bracketed name; the time is the clock time as given (seconds since
midnight; ``metadata['clock_start']`` holds the first header's time, so durations are
relative to it). Each header's piece ends where the next header starts.
"""

from __future__ import annotations

import re

from coder.formatting import plural
from coder.ingest.cues import PAUSE, Piece, assemble
from coder.ingest.model import Document
from coder.ingest.timestamps import parse_timestamp

HEADER = re.compile(r"^\[([^\]\n]{1,80})\][ \t]+(\d{1,2}:\d{2}:\d{2})[ \t]*$", re.MULTILINE)


def looks_like_zoom(text: str) -> int:
    """How many Zoom caption headers ``text`` has if it starts with one (else 0)."""
    first = text.lstrip()[:200]
    if not HEADER.match(first):
        return 0
    return len(HEADER.findall(text, 0, 200_000))


def parse_zoom(text: str, *, name: str, fmt: str, pause: float = PAUSE) -> Document:
    """Parse a Zoom closed-caption file (see the module docstring)."""
    heads = list(HEADER.finditer(text))
    pieces: list[Piece] = []
    for i, m in enumerate(heads):
        stop = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        words = " ".join(text[m.end():stop].split())
        start = parse_timestamp(m.group(2))
        end = parse_timestamp(heads[i + 1].group(2)) if i + 1 < len(heads) else start
        pieces.append(Piece(m.group(1).strip(), words, start, max(start, end)))
    metadata = {"clock_start": heads[0].group(2)} if heads else {}
    doc = assemble(pieces, name=name, fmt=fmt, metadata=metadata, pause=pause)
    doc.detected = (f"Zoom saved closed captions ({len(heads)} '[Name] hh:mm:ss' headers, "
                    f"{plural(len({p.speaker for p in pieces}), 'speaker')})")
    doc.notes.append(f"times are clock times as Zoom wrote them (from {heads[0].group(2)})")
    return doc
