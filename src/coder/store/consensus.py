"""The consensus layer: one coder's codings set per segment, and the reconciliation trail.

A decision makes the consensus coder's codings of a segment exactly the decided codes
(origin ``consensus``), marks the segment reviewed by the consensus coder, and appends a
row to ``consensus_decisions``: who decided, when, the note, the codes decided, the
consensus codes before, and what each coder had. Every change is logged: ``coding.add`` /
``coding.remove`` / ``review.add`` with full rows, then ``consensus.decide`` with the trail
row, so the whole decision can be undone from the event log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from coder.errors import CoderError
from coder.store.codings import apply_coding, mark_reviewed
from coder.store.db import Store, inserted_id, now

METHODS = ("manual", "auto")


def segment_row(store: Store, segment_id: int) -> dict[str, Any]:
    row = store.one(
        """SELECT s.id, s.ordinal, s.text, t.name AS transcript FROM segments s
           JOIN transcripts t ON t.id = s.transcript_id WHERE s.id = ?""", (segment_id,))
    if row is None:
        raise CoderError(f"no segment with id {segment_id}")
    return row


def code_names(store: Store, code_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(code_ids))
    if not ids:
        return {}
    rows = store.conn.execute(
        f"SELECT id, name FROM codes WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
    found = dict(rows)
    missing = [i for i in ids if i not in found]
    if missing:
        raise CoderError(f"no code with id {', '.join(map(str, missing))}")
    return found


def codes_on(store: Store, segment_id: int, coder: str) -> list[int]:
    """Code ids ``coder`` gave the segment, in codebook order."""
    return [row[0] for row in store.conn.execute(
        """SELECT DISTINCT g.code_id FROM codings g JOIN codes c ON c.id = g.code_id
           WHERE g.segment_id = ? AND g.coder = ? ORDER BY c.position, c.id""",
        (segment_id, coder))]


def coders_on(store: Store, segment_id: int, exclude: Iterable[str] = ()) -> list[str]:
    """Coders with a coding, reviewed mark or memo on the segment."""
    skip = set(exclude)
    rows = store.conn.execute(
        """SELECT coder FROM codings WHERE segment_id = :s UNION
           SELECT coder FROM reviewed WHERE segment_id = :s UNION
           SELECT coder FROM memos WHERE kind = 'segment' AND target_id = :s""",
        {"s": segment_id}).fetchall()
    return sorted(r[0] for r in rows if r[0] not in skip)


def work_on(store: Store, segment_id: int, coders: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What each coder has on the segment: reviewed, codes (names), memo."""
    out = {}
    for coder in coders:
        ids = codes_on(store, segment_id, coder)
        names = code_names(store, ids)
        out[coder] = {
            "reviewed": store.scalar("SELECT 1 FROM reviewed WHERE segment_id = ? AND coder = ?",
                                     (segment_id, coder)) is not None,
            "codes": [names[i] for i in ids],
            "memo": store.scalar("""SELECT text FROM memos WHERE kind = 'segment'
                                    AND target_id = ? AND coder = ?""", (segment_id, coder)),
        }
    return out


def set_codes(store: Store, segment_id: int, code_ids: Iterable[int], *, coder: str,
              origin: str = "consensus", remove: bool = True) -> tuple[list[int], list[int]]:
    """Make ``coder``'s codes on the segment exactly ``code_ids`` (only add when not
    ``remove``); returns (added, removed) code ids. Logs every coding it adds or removes."""
    from coder.store.codings import remove_coding

    wanted = set(code_ids)
    with store.transaction():
        have = set(codes_on(store, segment_id, coder))
        removed = sorted(have - wanted) if remove else []
        for code_id in removed:
            remove_coding(store, segment_id, code_id, coder=coder)
        added = sorted(wanted - have)
        for code_id in added:
            apply_coding(store, segment_id, code_id, coder=coder, origin=origin)
        return added, removed


def is_reviewed(store: Store, segment_id: int, coder: str) -> bool:
    return store.scalar("SELECT 1 FROM reviewed WHERE segment_id = ? AND coder = ?",
                        (segment_id, coder)) is not None


def reviewed_among(store: Store, coder: str, segment_ids: Iterable[int]) -> set[int]:
    """Which of the segments ``coder`` reviewed."""
    wanted = set(segment_ids)
    return {row[0] for row in store.conn.execute(
        "SELECT segment_id FROM reviewed WHERE coder = ?", (coder,)) if row[0] in wanted}


def record_decision(store: Store, *, segment_id: int, consensus: str, adjudicator: str,
                    method: str, note: str, codes: list[str], previous: list[str],
                    coders: dict[str, Any], log: bool = True,
                    **extra: Any) -> dict[str, Any]:
    """Append one row to the trail (and log ``consensus.decide`` with it); returns the row."""
    if method not in METHODS:
        raise CoderError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    with store.transaction():
        seg = segment_row(store, segment_id)
        cursor = store.execute(
            """INSERT INTO consensus_decisions (segment_id, transcript, ordinal, consensus,
               adjudicator, method, note, codes, previous, coders, decided_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            (segment_id, seg["transcript"], seg["ordinal"], consensus, adjudicator, method,
             note, json.dumps(codes), json.dumps(previous), json.dumps(coders), now()))
        row = store.one_existing("SELECT * FROM consensus_decisions WHERE id = ?",
                                 (inserted_id(cursor),))
        if log:
            store.log("consensus.decide", decision_id=row["id"], row=row, **extra)
        return _decoded(row)


def decisions(store: Store, segment_id: int | None = None,
              consensus: str | None = None) -> list[dict[str, Any]]:
    """Trail rows (of a segment and/or consensus coder, or all), oldest first, decoded."""
    rows = store.rows(
        """SELECT * FROM consensus_decisions WHERE (:s IS NULL OR segment_id = :s)
           AND (:c IS NULL OR consensus = :c) ORDER BY id""",
        {"s": segment_id, "c": consensus})
    return [_decoded(r) for r in rows]


def latest_decisions(store: Store, consensus: str,
                     segment_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The latest trail row per segment among ``segment_ids``."""
    wanted = set(segment_ids)
    out: dict[int, dict[str, Any]] = {}
    for row in store.rows("SELECT * FROM consensus_decisions WHERE consensus = ? ORDER BY id",
                          (consensus,)):
        if row["segment_id"] in wanted:
            out[row["segment_id"]] = _decoded(row)
    return out


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("codes", "previous", "coders"):
        row[key] = json.loads(row[key])
    return row


def mark_decided(store: Store, segment_id: int, consensus: str) -> bool:
    """Mark the segment reviewed by the consensus coder; True if newly marked."""
    return bool(mark_reviewed(store, [segment_id], coder=consensus))
