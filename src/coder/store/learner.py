"""The queries the learner reads its data with: a coder's labels, the segments and their
speakers, and what `suggest`, `autocode` and `evaluate` select."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from coder.store.db import Store


@dataclass
class LearnerLabels:
    """A coder's work as (segment id, code id) pairs and segment ids."""

    codings: list[tuple[int, int]]  # the coder's codes on segments (any span, any origin)
    reviewed: list[tuple[int, str]]  # segments the coder marked reviewed, and when
    rejected: list[tuple[int, int]]  # suggestions the coder rejected


def learner_labels(store: Store, coder: str) -> LearnerLabels:
    """What the model of ``coder`` trains on (one indexed query per kind)."""
    conn = store.conn
    codings = conn.execute("SELECT DISTINCT segment_id, code_id FROM codings WHERE coder = ?",
                           (coder,)).fetchall()
    reviewed = conn.execute(
        "SELECT segment_id, created_at FROM reviewed WHERE coder = ?", (coder,)).fetchall()
    rejected = conn.execute(
        "SELECT segment_id, code_id FROM suggestion_feedback WHERE coder = ? "
        "AND verdict = 'reject'", (coder,)).fetchall()
    return LearnerLabels(codings, reviewed, rejected)


def segments_fingerprint(store: Store) -> tuple[int, int, int]:
    """(count, max id, sum of ids) of the study's segments: changes when segments do."""
    row = store.conn.execute(
        "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0) FROM segments").fetchone()
    return row[0], row[1], row[2]


def segment_ids(store: Store) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT id FROM segments ORDER BY id")]


def iter_segments(store: Store, ids: Iterable[int] | None = None, *,
                  batch: int = 5000) -> Iterator[list[tuple[int, int, int, str, str, str]]]:
    """Segments as ``(id, transcript_id, ordinal, text, lemmas, tokens)``, in id order, in
    batches (so a large study is never all in memory at once); only ``ids`` when given."""
    conn = store.conn
    sql = "SELECT id, transcript_id, ordinal, text, lemmas, tokens FROM segments"
    if ids is not None:
        wanted = sorted({int(i) for i in ids})
        for start in range(0, len(wanted), batch):
            chunk = wanted[start:start + batch]
            marks = ",".join("?" * len(chunk))
            yield conn.execute(f"{sql} WHERE id IN ({marks}) ORDER BY id", chunk).fetchall()
        return
    last = 0
    while True:
        rows = conn.execute(f"{sql} WHERE id > ? ORDER BY id LIMIT ?", (last, batch)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


INTERVIEWER_ROLES = frozenset({"interviewer", "host", "co-host", "cohost", "facilitator",
                               "moderator"})


def segment_speakers(store: Store) -> list[tuple[int, int, str, bool]]:
    """Every segment as ``(id, speaker id or 0, speaker's role, whether it asks)``, in id
    order: what the learner needs for context (the preceding question) and for leaving
    interviewers out. "Asks" is a question mark in the text."""
    return [(r[0], r[1] or 0, (r[2] or "").strip().lower(), bool(r[3])) for r in store.conn.execute(
        """SELECT s.id, s.speaker_id,
                  (SELECT a.value FROM speaker_attributes a
                   WHERE a.speaker_id = s.speaker_id AND a.key = 'role'),
                  instr(s.text, '?') > 0
           FROM segments s ORDER BY s.id""")]


def speaker_question_counts(store: Store) -> list[dict[str, Any]]:
    """Per speaker: turns, turns with a question mark, and whether their role is an
    interviewer's (for offering to mark the one who asks most)."""
    rows = store.rows(
        """SELECT p.name AS speaker, count(*) AS turns,
                  sum(instr(s.text, '?') > 0) AS asks,
                  (SELECT a.value FROM speaker_attributes a
                   WHERE a.speaker_id = p.id AND a.key = 'role') AS role
           FROM segments s JOIN speakers p ON p.id = s.speaker_id
           GROUP BY p.id ORDER BY p.name""")
    for row in rows:
        row["interviewer"] = (row.pop("role") or "").strip().lower() in INTERVIEWER_ROLES
    return rows


def segment_places(store: Store, ids: Iterable[int]) -> dict[int, tuple[str, int]]:
    """``{segment id: (transcript name, ordinal)}``."""
    wanted = sorted({int(i) for i in ids})
    out: dict[int, tuple[str, int]] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        marks = ",".join("?" * len(chunk))
        for seg, name, ordinal in store.conn.execute(
                f"""SELECT s.id, t.name, s.ordinal FROM segments s
                    JOIN transcripts t ON t.id = s.transcript_id WHERE s.id IN ({marks})""",
                chunk):
            out[seg] = (name, ordinal)
    return out


def transcript_segment_ids(store: Store, names: Sequence[str]) -> list[int]:
    """Segment ids of the named transcripts (all transcripts when ``names`` is empty)."""
    from coder.store.transcripts import get_transcript

    if not names:
        return segment_ids(store)
    out: list[int] = []
    for name in names:
        row = get_transcript(store, name)
        out += [r[0] for r in store.conn.execute(
            "SELECT id FROM segments WHERE transcript_id = ? ORDER BY ordinal", (row["id"],))]
    return out


def coder_codings_in(store: Store, coder: str, ids: Sequence[int]) -> list[dict[str, Any]]:
    """``coder``'s codings on the given segments (id, segment_id, code_id, origin)."""
    out: list[dict[str, Any]] = []
    wanted = sorted({int(i) for i in ids})
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        marks = ",".join("?" * len(chunk))
        out += store.rows(
            f"SELECT id, segment_id, code_id, origin FROM codings WHERE coder = ? "
            f"AND segment_id IN ({marks})", (coder, *chunk))
    return out


def coder_exists(store: Store, coder: str) -> dict[str, int]:
    """How much work ``coder`` has in the study: codings and reviewed segments."""
    return {
        "codings": store.scalar("SELECT count(*) FROM codings WHERE coder = ?", (coder,)),
        "reviewed": store.scalar("SELECT count(*) FROM reviewed WHERE coder = ?", (coder,)),
    }


def unreviewed_segment_ids(store: Store, coder: str, names: Sequence[str]) -> list[int]:
    """Segments of the named transcripts (all when empty) that ``coder`` has not reviewed."""
    ids = transcript_segment_ids(store, names)
    reviewed = {r[0] for r in store.conn.execute(
        "SELECT segment_id FROM reviewed WHERE coder = ?", (coder,))}
    return [i for i in ids if i not in reviewed]


def origins_of(store: Store, coder: str) -> dict[str, int]:
    """How many codings ``coder`` has of each origin."""
    return {r["origin"]: r["n"] for r in store.rows(
        "SELECT origin, count(*) AS n FROM codings WHERE coder = ? GROUP BY origin", (coder,))}
