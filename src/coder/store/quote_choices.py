"""Pinned and excluded quotes: a report writer's choices for a code's quote bank."""

from __future__ import annotations

from typing import Any

from coder.errors import CoderError
from coder.store.db import Store, now

CHOICES = ("pin", "exclude")


def quote_choices(store: Store) -> dict[tuple[int, int], str]:
    """(code id, segment id) -> "pin" or "exclude"."""
    return {(r["code_id"], r["segment_id"]): r["choice"]
            for r in store.rows("SELECT code_id, segment_id, choice FROM quote_choices")}


def set_quote_choice(store: Store, code_id: int, segment_id: int, choice: str | None, *,
                     coder: str) -> dict[str, Any] | None:
    """Pin or exclude a segment as a quote of a code (None clears); returns the old row."""
    if choice is not None and choice not in CHOICES:
        raise CoderError(f"choice must be one of {', '.join(CHOICES)}, not {choice!r}")
    with store.transaction():
        old = store.one("SELECT * FROM quote_choices WHERE code_id = ? AND segment_id = ?",
                        (code_id, segment_id))
        store.execute("DELETE FROM quote_choices WHERE code_id = ? AND segment_id = ?",
                      (code_id, segment_id))
        row = None
        if choice is not None:
            created = now()
            cursor = store.execute(
                "INSERT INTO quote_choices (code_id, segment_id, choice, coder, created_at) "
                "VALUES (?,?,?,?,?)", (code_id, segment_id, choice, coder, created))
            row = store.one("SELECT * FROM quote_choices WHERE id = ?", (cursor.lastrowid,))
        store.log("quote.choice", code_id=code_id, segment_id=segment_id, previous=old, row=row)
        return old


def coded_codes(store: Store, coder: str) -> list[dict[str, Any]]:
    """Codes the coder used, in codebook order (the tree, depth first), with how many
    codings each."""
    rows = store.rows(
        """SELECT c.id, c.name, count(*) AS n FROM codings g JOIN codes c ON c.id = g.code_id
           WHERE g.coder = ? GROUP BY c.id""", (coder,))
    children: dict[int | None, list[int]] = {}
    for code_id, parent_id in store.conn.execute(
            "SELECT id, parent_id FROM codes ORDER BY position, id"):
        children.setdefault(parent_id, []).append(code_id)
    order: dict[int, int] = {}
    stack = list(reversed(children.get(None, [])))
    while stack:
        code_id = stack.pop()
        order[code_id] = len(order)
        stack.extend(reversed(children.get(code_id, [])))
    return sorted(rows, key=lambda r: order.get(r["id"], len(order)))


def coded_segment_ids(store: Store, coder: str, code_id: int) -> dict[tuple[str, int], int]:
    """(transcript, segment number) -> segment id, for the coder's codings of a code."""
    return {(r["transcript"], r["segment"]): r["segment_id"] for r in store.rows(
        """SELECT t.name AS transcript, s.ordinal AS segment, s.id AS segment_id
           FROM codings g JOIN segments s ON s.id = g.segment_id
           JOIN transcripts t ON t.id = s.transcript_id
           WHERE g.coder = ? AND g.code_id = ?""", (coder, code_id))}


def coding_counts(store: Store) -> list[tuple[str, int]]:
    """Every coder with codings and how many, most first."""
    return [(r[0], r[1]) for r in store.conn.execute(
        "SELECT coder, count(*) FROM codings GROUP BY coder ORDER BY count(*) DESC, coder")]
