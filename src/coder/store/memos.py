"""Memos: one note per coder on a segment, a code, a transcript or the whole study.

Every change is logged (``memo.add`` with the new row, ``memo.edit`` with the old and new
text, ``memo.delete`` with the whole row), so :mod:`coder.store.history` can undo it.
"""

from __future__ import annotations

from typing import Any

from coder.errors import CoderError
from coder.store.db import Store, now
from coder.store.schema import MEMO_KINDS

_ROW = ("id", "kind", "target_id", "coder", "text", "created_at", "updated_at")


def memo_target(store: Store, *, segment: tuple[str, int] | None = None,
                code: str | None = None, transcript: str | None = None,
                study: bool = False) -> tuple[str, int | None]:
    """(kind, target_id) for exactly one of: a segment (transcript name, ordinal), a code
    name, a transcript name, or the study."""
    from coder.store.codes import find_code
    from coder.store.transcripts import get_transcript, segment_id

    chosen = [name for name, value in (("segment", segment), ("code", code),
                                       ("transcript", transcript), ("study", study)) if value]
    if len(chosen) != 1:
        raise CoderError("choose one memo target: a segment, a code, a transcript or the study"
                         + (f" (got {', '.join(chosen)})" if chosen else ""))
    if segment:
        return "segment", segment_id(store, segment[0], segment[1])[1]
    if code:
        return "code", find_code(store, code)["id"]
    if transcript:
        return "transcript", get_transcript(store, transcript)["id"]
    return "study", None


def target_label(store: Store, kind: str, target_id: int | None) -> str:
    """A memo target in words: ``podcast ¶12``, ``code 'need targeted PD'``, …"""
    if kind == "study":
        return "the study"
    if kind == "segment":
        row = store.one("""SELECT t.name, s.ordinal FROM segments s
                           JOIN transcripts t ON t.id = s.transcript_id WHERE s.id = ?""",
                        (target_id,))
        return f"{row['name']} ¶{row['ordinal']}" if row else f"segment #{target_id} (gone)"
    if kind == "code":
        name = store.scalar("SELECT name FROM codes WHERE id = ?", (target_id,))
        return f"code {name!r}" if name else f"code #{target_id} (gone)"
    name = store.scalar("SELECT name FROM transcripts WHERE id = ?", (target_id,))
    return f"transcript {name!r}" if name else f"transcript #{target_id} (gone)"


def _check_target(store: Store, kind: str, target_id: int | None) -> None:
    if kind not in MEMO_KINDS:
        raise CoderError(f"a memo is on one of {', '.join(MEMO_KINDS)}, not {kind!r}")
    if kind == "study":
        if target_id is not None:
            raise CoderError("a study memo has no target")
        return
    table = {"segment": "segments", "code": "codes", "transcript": "transcripts"}[kind]
    if target_id is None or store.scalar(f"SELECT 1 FROM {table} WHERE id = ?",
                                         (target_id,)) is None:
        raise CoderError(f"no {kind} with id {target_id}")


def get_memo(store: Store, kind: str, target_id: int | None, coder: str) -> dict[str, Any] | None:
    """``coder``'s memo on the target (id, kind, target_id, coder, text, times), or None."""
    return store.one(
        """SELECT * FROM memos WHERE kind = ? AND target_id IS ? AND coder = ?
           ORDER BY id LIMIT 1""", (kind, target_id, coder))


def set_memo(store: Store, kind: str, target_id: int | None, coder: str, text: str) -> str:
    """Write ``coder``'s memo on the target: creates it, edits it, or (empty text) deletes it.

    Returns what happened: ``"added"``, ``"edited"``, ``"deleted"`` or ``"unchanged"``.
    """
    text = text.strip()
    with store.transaction():
        _check_target(store, kind, target_id)
        old = get_memo(store, kind, target_id, coder)
        if old is None and not text:
            return "unchanged"
        if old is None:
            stamp = now()
            cursor = store.execute(
                """INSERT INTO memos (kind, target_id, coder, text, created_at, updated_at)
                   VALUES (?,?,?,?,?,?)""", (kind, target_id, coder, text, stamp, stamp))
            store.log("memo.add", memo_id=cursor.lastrowid, kind=kind, target_id=target_id,
                      coder=coder, text=text, created_at=stamp, updated_at=stamp)
            return "added"
        if not text:
            store.execute("DELETE FROM memos WHERE id = ?", (old["id"],))
            store.log("memo.delete", memo_id=old["id"],
                      **{k: old[k] for k in _ROW if k != "id"})
            return "deleted"
        if text == old["text"]:
            return "unchanged"
        stamp = now()
        store.execute("UPDATE memos SET text = ?, updated_at = ? WHERE id = ?",
                      (text, stamp, old["id"]))
        store.log("memo.edit", memo_id=old["id"], kind=kind, target_id=target_id, coder=coder,
                  old=old["text"], new=text, old_updated_at=old["updated_at"], updated_at=stamp)
        return "edited"


def list_memos(store: Store, kind: str | None = None,
               coder: str | None = None) -> list[dict[str, Any]]:
    """Memos (of one kind and/or coder, or all) with readable targets.

    Each row: id, kind, target_id, target (in words), transcript, segment (ordinal), code,
    coder, text, created_at, updated_at. Study memos first, then transcripts, codes and
    segments in document order.
    """
    if kind is not None and kind not in MEMO_KINDS:
        raise CoderError(f"a memo is on one of {', '.join(MEMO_KINDS)}, not {kind!r}")
    rows = store.rows(
        """SELECT m.id, m.kind, m.target_id, m.coder, m.text, m.created_at, m.updated_at,
                  CASE m.kind WHEN 'segment' THEN st.name WHEN 'transcript' THEN t.name
                  END AS transcript,
                  s.ordinal AS segment, c.name AS code
           FROM memos m
           LEFT JOIN segments s ON m.kind = 'segment' AND s.id = m.target_id
           LEFT JOIN transcripts st ON st.id = s.transcript_id
           LEFT JOIN transcripts t ON m.kind = 'transcript' AND t.id = m.target_id
           LEFT JOIN codes c ON m.kind = 'code' AND c.id = m.target_id
           WHERE (:kind IS NULL OR m.kind = :kind) AND (:coder IS NULL OR m.coder = :coder)
           ORDER BY CASE m.kind WHEN 'study' THEN 0 WHEN 'transcript' THEN 1
                    WHEN 'code' THEN 2 ELSE 3 END,
                    transcript, segment, code COLLATE NOCASE, m.coder""",
        {"kind": kind, "coder": coder})
    for row in rows:
        if row["kind"] == "study":
            row["target"] = "the study"
        elif row["kind"] == "segment":
            row["target"] = (f"{row['transcript']} ¶{row['segment']}" if row["transcript"]
                             else f"segment #{row['target_id']} (gone)")
        elif row["kind"] == "code":
            row["target"] = row["code"] or f"code #{row['target_id']} (gone)"
        else:
            row["target"] = row["transcript"] or f"transcript #{row['target_id']} (gone)"
    return rows


def code_memos(store: Store, code_id: int) -> list[dict[str, Any]]:
    """``{"coder", "text"}`` of every coder's memo on code ``code_id``, by coder."""
    return store.rows("SELECT coder, text FROM memos WHERE kind = 'code' AND target_id = ? "
                      "ORDER BY coder", (code_id,))


def segment_memo_text(store: Store, segment_id: int, coder: str) -> str | None:
    """``coder``'s memo on segment ``segment_id``, or None."""
    return store.scalar("SELECT text FROM memos WHERE kind = 'segment' AND target_id = ? "
                        "AND coder = ?", (segment_id, coder))
