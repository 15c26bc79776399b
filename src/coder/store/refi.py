"""Queries behind REFI-QDA exchange (:mod:`coder.exchange`): what an export reads and what
an import matches against or adds."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from coder.errors import CoderError
from coder.store.db import Store, now


def text_sha256(text: str) -> str:
    """The hash coder compares stored texts by (UTF-8 of the stored text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def transcripts_with_text(store: Store) -> list[dict[str, Any]]:
    """Every transcript with its stored text and metadata (decoded), by name."""
    rows = store.rows(
        "SELECT id, name, sha256, metadata, text, imported_at FROM transcripts ORDER BY name")
    for row in rows:
        row["metadata"] = json.loads(row["metadata"] or "{}")
    return rows


def transcript_named(store: Store, name: str) -> dict[str, Any] | None:
    return store.one("SELECT id, name FROM transcripts WHERE name = ?", (name,))


def segment_extents(store: Store, transcript_id: int | None = None) -> list[dict[str, Any]]:
    """Segments' ids, transcripts, ordinals and character extents (of one transcript, or all),
    in text order."""
    return store.rows(
        """SELECT id, transcript_id, ordinal, start, end FROM segments
           WHERE :t IS NULL OR transcript_id = :t ORDER BY transcript_id, start, id""",
        {"t": transcript_id})


def all_codings(store: Store) -> list[dict[str, Any]]:
    """Every coding, in a stable order (transcript, position, span, coder, code)."""
    return store.rows(
        """SELECT g.segment_id, g.code_id, g.coder, g.memo, g.span_start, g.span_end,
                  g.created_at FROM codings g JOIN segments s ON s.id = g.segment_id
           ORDER BY s.transcript_id, s.start, g.span_start, g.coder, g.code_id, g.id""")


def speaker_attribute_rows(store: Store) -> list[dict[str, Any]]:
    """(speaker, key, value) for every speaker with attributes or segments (key None when
    the speaker has no attributes)."""
    return store.rows(
        """SELECT sp.name, a.key, a.value FROM speakers sp
           LEFT JOIN speaker_attributes a ON a.speaker_id = sp.id
           WHERE a.key IS NOT NULL OR sp.id IN (SELECT speaker_id FROM segments)
           ORDER BY sp.name, a.key""")


def speaker_names(store: Store) -> set[str]:
    return {r["name"] for r in store.rows("SELECT name FROM speakers")}


def code_named(store: Store, name: str) -> dict[str, Any] | None:
    """The code of this name (case-insensitive): id, parent_id, exclusive."""
    return store.one("SELECT id, parent_id, exclusive FROM codes WHERE name = ? COLLATE NOCASE",
                     (name,))


def add_imported_code(store: Store, name: str, *, parent_id: int | None, definition: str = "",
                      include: str = "", exclude: str = "", examples: list[str] | None = None,
                      color: str | None = None, exclusive: bool = False,
                      codable: bool = True) -> int:
    """Add a code with every codebook field an exchange file carries; returns its id.

    Logged as ``code.add`` with the whole row, so undo deletes it and redo restores it.
    """
    if code_named(store, name) is not None:
        raise CoderError(f"a code named {name!r} already exists")
    position = store.scalar(
        "SELECT coalesce(max(position), -1) + 1 FROM codes WHERE parent_id IS ?", (parent_id,))
    cursor = store.execute(
        """INSERT INTO codes (name, parent_id, position, definition, include, exclude, examples,
           color, exclusive, codable, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        (name, parent_id, position, definition, include, exclude,
         json.dumps(examples or []), color, int(exclusive), int(codable or exclusive),
         now()))
    row = store.one("SELECT * FROM codes WHERE id = ?", (cursor.lastrowid,))
    parent = store.scalar("SELECT name FROM codes WHERE id = ?", (parent_id,))
    store.log("code.add", code_id=cursor.lastrowid, name=name, parent=parent,
              definition=definition, key=None, color=color, row=row)
    return int(cursor.lastrowid or 0)


def keep_times(store: Store, *, transcript: int | None = None, coding: dict | None = None,
               memo: dict | None = None, created: str | None, updated: str | None = None
               ) -> None:
    """Give what an import just added the time the file says it was made (so the study's
    own export, imported elsewhere, exports the same again). The event log keeps the time
    of the import."""
    if not created:
        return
    if transcript is not None:
        store.execute("UPDATE transcripts SET imported_at = ? WHERE id = ?", (created, transcript))
    if coding is not None:
        store.execute(
            """UPDATE codings SET created_at = :created WHERE segment_id = :segment
               AND code_id = :code AND coder = :coder AND span_start IS :start
               AND span_end IS :end""", {**coding, "created": created})
    if memo is not None:
        store.execute(
            """UPDATE memos SET created_at = :created, updated_at = :updated WHERE kind = :kind
               AND target_id IS :target AND coder = :coder""",
            {**memo, "created": created, "updated": updated or created})
