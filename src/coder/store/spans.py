"""Span codings: a code on exact characters inside one segment.

The callers speak in offsets into the segment's text; the ``codings`` table keeps offsets
into the transcript text (``span_start``/``span_end``), so a span survives re-numbering and
is what REFI-QDA and character-level agreement read. A span coding and a whole-segment
coding of one code on one segment are distinct codings.

Every change goes through :func:`coder.store.codings.apply_coding` /
:func:`remove_coding_row` (``coding.add`` / ``coding.remove`` events) or logs
``coding.memo``, so :mod:`coder.store.history` undoes and redoes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coder.errors import CoderError
from coder.spans import strip_span
from coder.store.codings import apply_coding, remove_coding_row
from coder.store.db import Store


@dataclass
class SpanChange:
    """What coding a span did."""

    action: str  # "added", "replaced" or "unchanged"
    start: int  # in the segment's text
    end: int
    text: str  # the spanned words
    replaced: list[tuple[int, int]] = field(default_factory=list)  # old spans taken off


def segment_text(store: Store, segment: int) -> tuple[int, str]:
    """(offset of the segment in its transcript, the segment's text)."""
    row = store.one("SELECT start, text FROM segments WHERE id = ?", (segment,))
    if row is None:
        raise CoderError(f"no segment with id {segment}")
    return row["start"], row["text"]


def _overlapping(store: Store, segment: int, code_id: int, coder: str, low: int,
                 high: int) -> list[dict[str, Any]]:
    """The coder's span codings of the code on the segment that overlap ``[low, high)``
    (transcript offsets)."""
    return store.rows(
        """SELECT * FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?
           AND span_start IS NOT NULL AND span_start < ? AND span_end > ?
           ORDER BY span_start""", (segment, code_id, coder, high, low))


def code_span(store: Store, segment: int, code_id: int, start: int, end: int, *,
              coder: str, origin: str = "manual", memo: str | None = None) -> SpanChange:
    """Code ``[start, end)`` of the segment's text (white space at the edges is dropped).

    Re-coding words that overlap a span of the same code (same coder) replaces that span:
    this is how a span is widened or narrowed. The replaced span's memo is kept unless
    ``memo`` is given. Spans of the code elsewhere in the segment stay.
    """
    with store.transaction():
        offset, text = segment_text(store, segment)
        start, end = strip_span(text, start, end)
        low, high = offset + start, offset + end
        old = _overlapping(store, segment, code_id, coder, low, high)
        if len(old) == 1 and (old[0]["span_start"], old[0]["span_end"]) == (low, high) \
                and (memo is None or memo == old[0]["memo"]):
            return SpanChange("unchanged", start, end, text[start:end])
        kept_memo = memo if memo is not None else next(
            (r["memo"] for r in old if r["memo"]), None)
        for row in old:
            remove_coding_row(store, row)
        apply_coding(store, segment, code_id, coder=coder, origin=origin, memo=kept_memo,
                     span=(low, high))
        return SpanChange("replaced" if old else "added", start, end, text[start:end],
                          [(r["span_start"] - offset, r["span_end"] - offset) for r in old])


def uncode_span(store: Store, segment: int, code_id: int, start: int, end: int, *,
                coder: str) -> list[tuple[int, int]]:
    """Take off the coder's spans of the code that overlap ``[start, end)`` of the segment's
    text; returns the spans removed (segment offsets)."""
    with store.transaction():
        offset, text = segment_text(store, segment)
        if not 0 <= start <= end <= len(text):
            raise CoderError(f"characters {start}-{end} are not inside the segment")
        rows = _overlapping(store, segment, code_id, coder, offset + start,
                            offset + max(end, start + 1))
        for row in rows:
            remove_coding_row(store, row)
        return [(r["span_start"] - offset, r["span_end"] - offset) for r in rows]


def set_span_memo(store: Store, coding_id: int, memo: str, *, coder: str) -> str:
    """Write the memo on one of ``coder``'s codings (empty text clears it); returns
    "added", "edited", "deleted" or "unchanged"."""
    with store.transaction():
        row = store.one("SELECT * FROM codings WHERE id = ?", (coding_id,))
        if row is None or row["coder"] != coder:
            raise CoderError(f"{coder} has no coding with id {coding_id}")
        new = memo.strip() or None
        if new == row["memo"]:
            return "unchanged"
        store.execute("UPDATE codings SET memo = ? WHERE id = ?", (new, coding_id))
        span = [row["span_start"], row["span_end"]] if row["span_start"] is not None else None
        store.log("coding.memo", coding_id=coding_id, segment_id=row["segment_id"],
                  code_id=row["code_id"], coder=coder, span=span, old=row["memo"], new=new)
        return "added" if row["memo"] is None else "deleted" if new is None else "edited"


def segment_spans(store: Store, segments: list[int],
                  coder: str | None = None) -> dict[int, list[dict[str, Any]]]:
    """Span codings per segment id (of ``coder``, or everyone), in text order; each with
    id, code_id, code, coder, memo, origin, start and end (segment offsets) and text."""
    out: dict[int, list[dict[str, Any]]] = {}
    wanted = sorted(set(segments))
    for first in range(0, len(wanted), 900):
        chunk = wanted[first:first + 900]
        marks = ",".join("?" * len(chunk))
        for row in store.rows(
                f"""SELECT g.id, g.segment_id, g.code_id, c.name AS code, g.coder, g.memo,
                           g.origin, g.span_start - s.start AS start,
                           g.span_end - s.start AS end, s.text
                    FROM codings g JOIN segments s ON s.id = g.segment_id
                    JOIN codes c ON c.id = g.code_id
                    WHERE g.segment_id IN ({marks}) AND g.span_start IS NOT NULL
                    AND (? IS NULL OR g.coder = ?)
                    ORDER BY g.span_start, g.span_end, c.position, g.coder""",
                (*chunk, coder, coder)):
            row["text"] = row["text"][row["start"]:row["end"]]
            out.setdefault(row["segment_id"], []).append(row)
    return out


def locate(text: str, *, words: str | None = None, occurrence: int = 1,
           chars: str | None = None) -> tuple[tuple[int, int], str]:
    """The span named by ``words`` (its ``occurrence``-th time) or by ``chars`` ("12-40"),
    and a note for the user when the words matched only ignoring case."""
    from coder.spans import find_text, parse_chars

    if (words is None) == (chars is None):
        raise CoderError("give either --text or --chars")
    if chars is not None:
        return parse_chars(chars, text), ""
    assert words is not None
    span, ignored_case = find_text(text, words, occurrence)
    return span, "matched ignoring case" if ignored_case else ""


def span_by_name(store: Store, transcript: str, ordinal: int, code: str, *, coder: str,
                 words: str | None = None, occurrence: int = 1, chars: str | None = None,
                 memo: str | None = None) -> tuple[dict[str, Any], SpanChange, str]:
    """The CLI's ``code apply --text/--chars``: (code row, what changed, a note)."""
    with store.transaction():
        seg, row, (start, end), note = _named_words(store, transcript, ordinal, code,
                                                    words, occurrence, chars)
        return row, code_span(store, seg, row["id"], start, end, coder=coder, memo=memo), note


def unspan_by_name(store: Store, transcript: str, ordinal: int, code: str, *, coder: str,
                   words: str | None = None, occurrence: int = 1,
                   chars: str | None = None) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The CLI's ``code remove --text/--chars``: the spans of the code that overlap."""
    with store.transaction():
        seg, row, (start, end), _ = _named_words(store, transcript, ordinal, code,
                                                 words, occurrence, chars)
        return row, uncode_span(store, seg, row["id"], start, end, coder=coder)


def _named_words(store: Store, transcript: str, ordinal: int, code: str, words: str | None,
                 occurrence: int, chars: str | None
                 ) -> tuple[int, dict[str, Any], tuple[int, int], str]:
    """(segment id, code row, segment offsets, note) for the CLI's --text/--chars."""
    from coder.store.codes import find_code
    from coder.store.transcripts import segment_id

    _, seg = segment_id(store, transcript, ordinal)
    row = find_code(store, code)
    _, text = segment_text(store, seg)
    try:
        found, note = locate(text, words=words, occurrence=occurrence, chars=chars)
    except CoderError as exc:
        raise CoderError(f"{transcript} ¶{ordinal}: {exc.reason}") from None
    return seg, row, found, note


def coded_spans(store: Store, coder: str) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """``{(segment id, code id): spans}`` (segment offsets, in order) where ``coder`` coded
    only words of the segment with the code, not the whole segment."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    whole: set[tuple[int, int]] = set()
    for seg, code, start, end in store.conn.execute(
            """SELECT g.segment_id, g.code_id, g.span_start - s.start, g.span_end - s.start
               FROM codings g JOIN segments s ON s.id = g.segment_id WHERE g.coder = ?
               ORDER BY g.span_start""", (coder,)):
        if start is None:
            whole.add((seg, code))
        else:
            out.setdefault((seg, code), []).append((start, end))
    return {k: v for k, v in out.items() if k not in whole}
