"""Warnings for an import result that looks wrong, each saying where and what to try.

Checked on every import and shown by ``coder import --preview``: one speaker holding most
words in a file with several labels, a segment over ``LONG_SEGMENT`` words, a block
without a speaker in a labelled file, lines that look like labels but were not used, and
markup or timing residue left in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from coder.ingest.model import Document

LONG_SEGMENT = 1500
DOMINANT_SHARE = 0.9
# every branch starts with a literal character, so one scan over the text is fast
RESIDUE = re.compile(
    r"-->|\\[\[\]]|\*\*|&#\d+;|&[a-z]{2,6};|#\d{1,2}:\d\d|<\d{1,2}:\d\d[^>]*>|</?c[.>]"
    r"|\[\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?\]|\n\d+\n\d\d:\d\d")


class _Segment(Protocol):
    ordinal: int
    speaker: str | None
    text: str
    start: int


def check(doc: Document, segments: Sequence[_Segment]) -> list[str]:
    """Warnings about ``doc`` cut into ``segments`` (messages without the file name)."""
    warnings: list[str] = []
    # words counted by their gaps: close enough for thresholds, and fast on a million words
    words = [s.text.count(" ") + s.text.count("\n") + 1 for s in segments]
    by_speaker: dict[str, int] = {}
    for seg, n in zip(segments, words, strict=True):
        if seg.speaker:
            by_speaker[seg.speaker] = by_speaker.get(seg.speaker, 0) + n
    total = sum(words)
    if len(by_speaker) >= 2 and total >= 200:
        top, top_words = max(by_speaker.items(), key=lambda kv: kv[1])
        if top_words >= DOMINANT_SHARE * total:
            warnings.append(
                f"{top} holds {int(100 * top_words / total)}% of the words among "
                f"{len(by_speaker)} speakers: another speaker's lines may be glued into "
                f"{top}'s turns (labels coder did not recognise?); check with --preview, or "
                "list the speakers in transcripts/speakers.csv")
    for seg, n in zip(segments, words, strict=True):
        if n > LONG_SEGMENT and (n := len(seg.text.split())) > LONG_SEGMENT:
            warnings.append(
                f"segment {seg.ordinal}{_line(doc, seg)} has {n:,} words: too long to code; "
                "try --segment paragraph or sentence, or check the labels around it")
    if by_speaker:
        for k, seg in enumerate(segments):
            if seg.speaker is None and (k > 0 or words[k] > 150):
                warnings.append(
                    f"segment {seg.ordinal}{_line(doc, seg)} has no speaker in a file with "
                    "speaker labels: a label coder did not recognise? Add the name to "
                    "transcripts/speakers.csv")
                break
    for label, line in doc.unused_labels[:3]:
        warnings.append(
            f"line {line}: '{label}' looks like a speaker label but was used only once, so "
            "it was kept as words; if it is a speaker, add it to transcripts/speakers.csv")
    if (found := _residue(doc, segments)) is not None:
        seg, residue = found
        warnings.append(
            f"segment {seg.ordinal}{_line(doc, seg)} still holds markup or a timestamp "
            f"({residue!r}): the file may be in a form coder does not know; try "
            "--segment paragraph, or clean the file")
    return warnings


def _residue(doc: Document, segments: Sequence[_Segment]) -> tuple[_Segment, str] | None:
    """The first segment with markup or timing residue in it, and the residue."""
    for seg in segments:
        if m := RESIDUE.search(seg.text):
            return seg, m.group(0)
    return None


def _line(doc: Document, seg: _Segment) -> str:
    """`` (line N)`` when the stored text is the file's own text, else `` (at 00:12:03)``
    or `` (p. 4)`` when the file has times or pages (else nothing)."""
    from coder.formatting import clock

    line = doc.line_at(seg.start)
    if line is not None:
        return f" (line {line})"
    if (time := doc.time_at(seg.start)) is not None:
        return f" (at {clock(time[0])})"
    if (page := doc.page_at(seg.start)) is not None:
        return f" (p. {page})"
    return ""
