"""Spans inside a segment's text: finding words, parsing offsets, quoting a span.

Offsets here are into the *segment's* text (0 = its first character), half-open
``[start, end)``. The store keeps them as offsets into the transcript text; the store
functions in :mod:`coder.store.spans` convert between the two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coder.errors import CoderError

ELLIPSIS = "…"


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the whitespace at either edge; an error when nothing is left
    or the offsets fall outside ``text``."""
    if not 0 <= start < end <= len(text):
        raise CoderError(f"characters {start}-{end} are not inside the segment "
                         f"(it has {len(text)} characters: 0-{len(text)})")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise CoderError(f"characters {start}-{end} hold only white space")
    return start, end


def parse_chars(spec: str, text: str) -> tuple[int, int]:
    """``"12-40"`` (offsets in the segment's text, end exclusive) as a checked span."""
    match = re.fullmatch(r"\s*(\d+)\s*[-:]\s*(\d+)\s*", spec)
    if not match:
        raise CoderError(f"--chars {spec!r}: use START-END, e.g. 0-42 (offsets in the "
                         "segment's text, END not included)")
    return strip_span(text, int(match.group(1)), int(match.group(2)))


def _pattern(words: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = [re.escape(w) for w in words.split()]
    return re.compile(r"\s+".join(parts), re.IGNORECASE if ignore_case else 0)


def find_text(text: str, words: str, occurrence: int = 1) -> tuple[tuple[int, int], bool]:
    """Where ``words`` occur in ``text`` (the ``occurrence``-th time, counting from 1).

    White space in ``words`` matches any run of white space (a line break in the segment
    matches a space typed on the command line). An exact match is preferred; failing that a
    match ignoring case is used and the second value is True, so the caller can say so.
    """
    if not words.strip():
        raise CoderError("--text is empty")
    if occurrence < 1:
        raise CoderError(f"--occurrence must be 1 or more, not {occurrence}")
    for ignore_case in (False, True):
        found = [m.span() for m in _pattern(words, ignore_case=ignore_case).finditer(text)]
        if found:
            if occurrence > len(found):
                raise CoderError(f"the segment has {words.strip()!r} {_times(len(found))}, "
                                 f"not {occurrence}")
            return found[occurrence - 1], ignore_case
    raise CoderError(f"the segment does not contain {words.strip()!r}")


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` so it neither starts nor ends inside a word."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


def merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping or touching ones joined."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def quote_spans(text: str, spans: Sequence[tuple[int, int]],
                sentences: Sequence[tuple[int, int]] = ()) -> tuple[str, bool]:
    """The words of ``spans`` as a quote: whole words, in order, with … where the segment
    was cut; with ``sentences``, each span widened to the sentences around it. Returns the
    quote and whether it is less than the whole segment."""
    pieces: list[tuple[int, int]] = []
    for start, end in spans:
        start, end = whole_words(text, start, end)
        if sentences:
            around = [(a, b) for a, b in sentences if a < end and start < b]
            if around:
                start, end = min(start, around[0][0]), max(end, around[-1][1])
        pieces.append((start, end))
    pieces = merge(pieces)
    body_start = len(text) - len(text.lstrip())
    body_end = len(text.rstrip())
    out: list[str] = []
    cut = False
    for n, (start, end) in enumerate(pieces):
        gap = text[pieces[n - 1][1] if n else body_start:start]
        if gap.strip():
            out.append(ELLIPSIS)
            cut = True
        out.append(text[start:end].strip())
    if text[pieces[-1][1]:body_end].strip() if pieces else False:
        out.append(ELLIPSIS)
        cut = True
    return " ".join(out), cut


def hit_sentences(text: str, start: int, end: int) -> tuple[int, int]:
    """A pattern hit ``[start, end)`` widened to the sentence(s) it is in: the span a
    pattern suggestion is accepted as, when that setting is on."""
    from coder.selection import units

    around = [(a, b) for a, b in units(text, "sentence") if a < end and start < b]
    if not around:
        return whole_words(text, start, end)
    return min(around[0][0], start), max(around[-1][1], end)


def pattern_spans(text: str, hits: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans a pattern suggestion is accepted as when coding spans (workbench setting,
    ``autocode --spans``): each hit ``(start, end)`` widened to its sentence(s), merged."""
    return merge([hit_sentences(text, start, end) for start, end in hits])
