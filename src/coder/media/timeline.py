"""Where each segment is in the recording: its own times, or an estimate between neighbours.

A segment with a start and an end time is exact. A segment with only a start (a
``[00:12:03]`` label) ends where the next timed segment starts. A segment without times is
placed by its characters: linearly between the nearest timed points before and after it
(the start of the text is at 0 s, its end at the recording's duration when known), or, past
the last timed point, at a speaking rate of 15 characters a second (about 150 words a
minute). Estimated times are flagged so the workbench can say so.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

CHARS_PER_SECOND = 15.0


@dataclass(frozen=True)
class Span:
    """A segment's place in the recording."""

    segment_id: int
    ordinal: int
    start: float
    end: float
    estimated: bool  # the start or the end is interpolated, not from the transcript


def timeline(segments: list[dict[str, Any]], duration: float | None = None) -> list[Span]:
    """Spans for rows with id, ordinal, start, end (characters), time_start, time_end."""
    points: list[tuple[int, float]] = [(0, 0.0)]
    for seg in segments:
        if seg["time_start"] is not None:
            points.append((seg["start"], float(seg["time_start"])))
        if seg["time_end"] is not None:
            points.append((seg["end"], float(seg["time_end"])))
    text_end = max((s["end"] for s in segments), default=0)
    if duration and duration > 0 and text_end > points[-1][0]:
        points.append((text_end, float(duration)))
    # Keep the points increasing in both characters and time (a time that goes back is noise).
    kept: list[tuple[int, float]] = []
    for char, seconds in sorted(points):
        if kept and char == kept[-1][0]:
            if len(kept) == 1:  # the text's first character: its own time beats 0 s
                kept[-1] = (char, seconds)
            continue
        if not kept or seconds >= kept[-1][1]:
            kept.append((char, seconds))
    chars = [c for c, _ in kept]

    def at(char: int) -> float:
        i = bisect_right(chars, char) - 1
        c0, t0 = kept[i]
        if i + 1 < len(kept):
            c1, t1 = kept[i + 1]
            return t0 + (t1 - t0) * (char - c0) / (c1 - c0)
        return t0 + (char - c0) / CHARS_PER_SECOND

    spans: list[Span] = []
    for index, seg in enumerate(segments):
        estimated = False
        if seg["time_start"] is not None:
            start = float(seg["time_start"])
        else:
            start, estimated = at(seg["start"]), True
        if seg["time_end"] is not None:
            end = float(seg["time_end"])
        elif seg["time_start"] is not None and index + 1 < len(segments) \
                and segments[index + 1]["time_start"] is not None:
            end = float(segments[index + 1]["time_start"])
        else:
            end, estimated = at(seg["end"]), True
        if duration:
            start, end = min(start, duration), min(end, duration)
        spans.append(Span(seg["id"], seg["ordinal"], start, max(start, end), estimated))
    return spans


def span_at(spans: list[Span], seconds: float, starts: list[float] | None = None
            ) -> int | None:
    """The index of the span playing at ``seconds`` (the last one starting at or before it).

    ``starts``: the spans' starts, when the caller keeps them (a lookup is then O(log n)).
    """
    if starts is None:
        starts = [s.start for s in spans]
    index = bisect_right(starts, seconds) - 1
    return index if index >= 0 else None
