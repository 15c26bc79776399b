"""What the coding workbench reads: a transcript's segments and who coded what, in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field

from coder.store.db import Store


@dataclass(slots=True, frozen=True)
class SpanMark:
    """A span coding as the workbench shows it (offsets in the segment's text)."""

    coding_id: int
    code_id: int
    start: int
    end: int
    coder: str
    memo: str | None


@dataclass(slots=True)
class SegmentView:
    """One segment as the workbench shows it."""

    id: int
    ordinal: int
    speaker: str
    role: str
    time_start: float | None
    text: str
    reviewed: bool = False
    memo: bool = False  # the current coder wrote a memo on it
    mine: set[int] = field(default_factory=set)  # code ids the current coder gave (whole)
    others: dict[int, list[str]] = field(default_factory=dict)  # code id -> other coders
    spans: list[SpanMark] = field(default_factory=list)  # span codings, everyone's, in order
    start: int = 0  # where the segment's text starts in the transcript text

    def my_spans(self, coder: str) -> list[SpanMark]:
        return [s for s in self.spans if s.coder == coder]


_CODINGS = """SELECT g.segment_id, g.code_id, g.coder, g.id, g.span_start - s.start,
                     g.span_end - s.start, g.memo
              FROM codings g JOIN segments s ON s.id = g.segment_id"""


def _add_coding(view: SegmentView, coder: str, row: tuple) -> None:
    _, code_id, who, coding_id, start, end, memo = row
    if start is not None:
        view.spans.append(SpanMark(coding_id, code_id, start, end, who, memo))
    elif who == coder:
        view.mine.add(code_id)
    else:
        view.others.setdefault(code_id, []).append(who)


def _sort_spans(views: list[SegmentView]) -> None:
    for view in views:
        if len(view.spans) > 1:
            view.spans.sort(key=lambda s: (s.start, s.end, s.coding_id))


def load_segments(store: Store, transcript_id: int, coder: str) -> list[SegmentView]:
    """All segments of a transcript, with ``coder``'s codes, reviewed marks and others' codes."""
    rows = store.conn.execute(
        """SELECT s.id, s.ordinal, coalesce(sp.name, ''),
                  coalesce((SELECT value FROM speaker_attributes a
                            WHERE a.speaker_id = s.speaker_id AND a.key = 'role'), ''),
                  s.time_start, s.text, s.start
           FROM segments s LEFT JOIN speakers sp ON sp.id = s.speaker_id
           WHERE s.transcript_id = ? ORDER BY s.ordinal""", (transcript_id,)).fetchall()
    views = [SegmentView(r[0], r[1], r[2], r[3], r[4], r[5], start=r[6]) for r in rows]
    by_id = {v.id: v for v in views}
    for seg_id, in store.conn.execute(
            """SELECT r.segment_id FROM reviewed r JOIN segments s ON s.id = r.segment_id
               WHERE s.transcript_id = ? AND r.coder = ?""", (transcript_id, coder)):
        by_id[seg_id].reviewed = True
    for (seg_id,) in store.conn.execute(
            """SELECT m.target_id FROM memos m JOIN segments s ON s.id = m.target_id
               WHERE m.kind = 'segment' AND s.transcript_id = ? AND m.coder = ?""",
            (transcript_id, coder)):
        by_id[seg_id].memo = True
    for row in store.conn.execute(f"{_CODINGS} WHERE s.transcript_id = ? ORDER BY g.id",
                                  (transcript_id,)):
        _add_coding(by_id[row[0]], coder, row)
    _sort_spans(views)
    return views


def refresh_segments(store: Store, views: list[SegmentView], coder: str) -> None:
    """Reload codes and reviewed marks of the given segments (after undo, say)."""
    if not views:
        return
    by_id = {v.id: v for v in views}
    marks = ",".join("?" * len(by_id))
    for view in views:
        view.mine, view.others, view.reviewed, view.memo = set(), {}, False, False
        view.spans = []
    for (seg_id,) in store.conn.execute(
            f"SELECT target_id FROM memos WHERE kind = 'segment' AND coder = ? "
            f"AND target_id IN ({marks})", (coder, *by_id)):
        by_id[seg_id].memo = True
    for row in store.conn.execute(f"{_CODINGS} WHERE g.segment_id IN ({marks}) ORDER BY g.id",
                                  tuple(by_id)):
        _add_coding(by_id[row[0]], coder, row)
    _sort_spans(views)
    for (seg_id,) in store.conn.execute(
            f"SELECT segment_id FROM reviewed WHERE coder = ? AND segment_id IN ({marks})",
            (coder, *by_id)):
        by_id[seg_id].reviewed = True
    for seg_id, time_start in store.conn.execute(  # a time set from playback, or undone
            f"SELECT id, time_start FROM segments WHERE id IN ({marks})", tuple(by_id)):
        by_id[seg_id].time_start = time_start


def transcript_of_segment(store: Store, segment_id: int) -> tuple[int, int] | None:
    """(transcript id, ordinal) of a segment."""
    row = store.conn.execute("SELECT transcript_id, ordinal FROM segments WHERE id = ?",
                             (segment_id,)).fetchone()
    return (row[0], row[1]) if row else None


def transcript_name(store: Store, transcript_id: int) -> str | None:
    """A transcript's name."""
    row = store.conn.execute("SELECT name FROM transcripts WHERE id = ?",
                             (transcript_id,)).fetchone()
    return row[0] if row else None


def segment_ids(store: Store, transcript_id: int) -> list[int]:
    """A transcript's segment ids in order (to notice it was replaced under an open view)."""
    return [row[0] for row in store.conn.execute(
        "SELECT id FROM segments WHERE transcript_id = ? ORDER BY ordinal", (transcript_id,))]


# Event actions whose effect on an open transcript is confined to the segment they name.
_SEGMENT_ACTIONS = frozenset({"coding.add", "coding.remove", "review.add", "review.remove",
                              "suggestion.accept", "suggestion.reject", "suggestion.revert",
                              "quote.choice"})
_MEMO_ACTIONS = frozenset({"memo.add", "memo.edit", "memo.delete"})
_IGNORED = frozenset({"history.undo", "history.redo"})  # markers beside their inverse events
_MAX_CHANGES = 5000  # beyond this many events, re-reading everything is as cheap


@dataclass
class Changes:
    """What the event log says changed after some event: ``segments`` (ids) when every
    change was to single segments, None when something broader changed (the codebook, a
    transcript, a merge), so everything must be re-read."""

    last: int  # the latest event id now
    segments: set[int] | None = field(default_factory=set)
    coders: set[str] = field(default_factory=set)  # who wrote them


def last_event(store: Store) -> int:
    return store.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]


def changes_since(store: Store, event_id: int) -> Changes:
    """The segments changed by events after ``event_id`` (one indexed read of the log)."""
    rows = store.conn.execute(
        """SELECT id, action, json_extract(payload, '$.segment_id'),
                  json_extract(payload, '$.kind'), json_extract(payload, '$.target_id'),
                  coalesce(json_extract(payload, '$.coder'), coder)
           FROM events WHERE id > ? ORDER BY id LIMIT ?""",
        (event_id, _MAX_CHANGES + 1)).fetchall()
    if not rows:
        return Changes(event_id)
    changes = Changes(rows[-1][0])
    if len(rows) > _MAX_CHANGES:
        changes.last, changes.segments = last_event(store), None
        return changes
    changes.coders = {row[5] for row in rows}
    for _, action, segment, kind, target, _ in rows:
        if action in _SEGMENT_ACTIONS and segment is not None:
            changes.segments.add(segment)  # type: ignore[union-attr]
        elif action in _MEMO_ACTIONS:
            if kind == "segment" and target is not None:
                changes.segments.add(target)  # type: ignore[union-attr]
        elif action not in _IGNORED:
            changes.segments = None
            break
    return changes
