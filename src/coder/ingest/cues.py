"""Timed pieces of speech (caption cues, Zoom caption chunks) into readable turns.

Consecutive pieces of one speaker join into one turn, except that a turn ends at a pause
(the next piece starts ``pause`` seconds or more after the last one ended) and at a
readable size: after ``SOFT_WORDS`` words at the end of a sentence, after ``HARD_WORDS``
words anywhere. So a lecture or a one-voice diary becomes paragraphs, not one page.
Every piece keeps its own time in ``Document.times``, so sentences and paragraphs cut
out of a turn later keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from coder.ingest.model import Document, Turn

PAUSE = 2.0
SOFT_WORDS = 120
HARD_WORDS = 250
_SENTENCE_END = (".", "?", "!", "…", '."', '?"', "!\"", ".”", "?”", "!”")


@dataclass
class Piece:
    """One timed piece of speech."""

    speaker: str | None
    words: str
    start: float | None
    end: float | None


def assemble(pieces: list[Piece], *, name: str, fmt: str, metadata: dict,
             pause: float = PAUSE) -> Document:
    """Join ``pieces`` into turns and the stored text (``Name: words`` paragraphs)."""
    has_speakers = any(p.speaker is not None for p in pieces)
    groups: list[tuple[str | None, list[Piece]]] = []
    count = 0
    for piece in pieces:
        speaker = piece.speaker
        if has_speakers and speaker is None and groups:
            speaker = groups[-1][0]  # a cue without a label continues the current speaker
        if not piece.words:
            continue
        words = len(piece.words.split())
        if groups and groups[-1][0] == speaker and not _ends_turn(groups[-1][1], piece,
                                                                     count, pause):
            groups[-1][1].append(piece)
            count += words
        else:
            groups.append((speaker, [piece]))
            count = words
    out: list[str] = []
    turns: list[Turn] = []
    times: list[tuple[int, float, float]] = []
    pos = 0
    previous: str | None = None
    for speaker, group in groups:
        if out:
            out.append("\n\n")
            pos += 2
        prefix = f"{speaker}: " if speaker is not None and speaker != previous else ""
        previous = speaker
        out.append(prefix)
        pos += len(prefix)
        start = pos
        for k, piece in enumerate(group):
            if k:
                out.append(" ")
                pos += 1
            if piece.start is not None:
                times.append((pos, piece.start, piece.end if piece.end is not None
                              else piece.start))
            out.append(piece.words)
            pos += len(piece.words)
        turns.append(Turn(speaker, start, pos, group[0].start, group[-1].end))
    metadata["pause"] = pause  # so importing again with another --pause is a change
    return Document(name=name, text="".join(out), turns=turns, format=fmt, metadata=metadata,
                    times=times)


def _ends_turn(group: list[Piece], piece: Piece, words: int, pause: float) -> bool:
    last = group[-1]
    if last.end is not None and piece.start is not None and piece.start - last.end >= pause:
        return True
    if words >= HARD_WORDS:
        return True
    return words >= SOFT_WORDS and last.words.rstrip().endswith(_SENTENCE_END)
