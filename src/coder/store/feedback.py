"""Suggestion feedback: accept and reject (the learner's reads: :mod:`coder.store.learner`).

Accepting a suggestion codes the segment (origin ``suggestion``) and records the verdict;
rejecting records the verdict only. Either is one transaction with logged events whose
payload holds the row before and after, so that undo can invert them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from coder.errors import CoderError
from coder.store.codings import apply_coding
from coder.store.db import Store, now


# -- feedback ------------------------------------------------------------------------------
def accept_suggestion(store: Store, segment_id: int, code_id: int, *, coder: str,
                      score: float | None = None, sources: Sequence[str] = (),
                      spans: Sequence[tuple[int, int]] = ()) -> bool:
    """Apply a suggested code (origin ``suggestion``) and record the acceptance; with
    ``spans`` (offsets in the segment's text) only those words are coded.

    Returns whether the coding was new (False when the coder already had the code).
    """
    with store.transaction():
        _check(store, segment_id, code_id)
        if spans:
            from coder.spans import merge
            from coder.store.spans import code_span

            added = False
            for start, end in merge(spans):
                added |= code_span(store, segment_id, code_id, start, end, coder=coder,
                                   origin="suggestion").action != "unchanged"
        else:
            added = apply_coding(store, segment_id, code_id, coder=coder, origin="suggestion")
        _record(store, "accept", segment_id, code_id, coder, score, sources)
        return added


def reject_suggestion(store: Store, segment_id: int, code_id: int, *, coder: str,
                      score: float | None = None, sources: Sequence[str] = ()) -> None:
    """Record that ``coder`` rejected the suggested code: the learner takes it as a negative."""
    with store.transaction():
        _check(store, segment_id, code_id)
        _record(store, "reject", segment_id, code_id, coder, score, sources)


def _check(store: Store, segment_id: int, code_id: int) -> None:
    if not store.scalar("SELECT 1 FROM segments WHERE id = ?", (segment_id,)):
        raise CoderError(f"no segment #{segment_id}")
    if not store.scalar("SELECT 1 FROM codes WHERE id = ?", (code_id,)):
        raise CoderError(f"no code #{code_id}")


def _record(store: Store, verdict: str, segment_id: int, code_id: int, coder: str,
            score: float | None, sources: Sequence[str]) -> None:
    previous = store.one(
        "SELECT * FROM suggestion_feedback WHERE segment_id = ? AND code_id = ? AND coder = ?",
        (segment_id, code_id, coder))
    created = now()
    score = None if score is None else round(float(score), 4)
    source_text = json.dumps(list(sources))
    if previous:
        store.execute(
            "UPDATE suggestion_feedback SET verdict = ?, score = ?, sources = ?, created_at = ? "
            "WHERE id = ?", (verdict, score, source_text, created, previous["id"]))
        feedback_id = previous["id"]
        previous["sources"] = json.loads(previous["sources"])
    else:
        feedback_id = store.execute(
            """INSERT INTO suggestion_feedback (segment_id, code_id, coder, verdict, score,
               sources, created_at) VALUES (?,?,?,?,?,?,?)""",
            (segment_id, code_id, coder, verdict, score, source_text, created)).lastrowid
    # ``previous`` is the row this verdict replaced (None: there was none): undo restores it.
    store.log(f"suggestion.{verdict}", feedback_id=feedback_id, segment_id=segment_id,
              code_id=code_id, coder=coder, verdict=verdict, score=score,
              sources=list(sources), created_at=created, previous=previous)


def list_feedback(store: Store, coder: str | None = None) -> list[dict[str, Any]]:
    """Every verdict (of ``coder``, or all), with transcript, segment number and code name."""
    rows = store.rows(
        """SELECT f.id, t.name AS transcript, s.ordinal AS segment, c.name AS code, f.coder,
                  f.verdict, f.score, f.sources, f.created_at, f.segment_id, f.code_id
           FROM suggestion_feedback f JOIN segments s ON s.id = f.segment_id
           JOIN transcripts t ON t.id = s.transcript_id JOIN codes c ON c.id = f.code_id
           WHERE (? IS NULL OR f.coder = ?) ORDER BY t.name, s.ordinal, c.name, f.coder""",
        (coder, coder))
    for row in rows:
        row["sources"] = json.loads(row["sources"])
    return rows
