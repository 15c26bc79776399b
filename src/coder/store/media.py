"""Media links and segment times: what playback reads and the changes it makes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from coder.store.db import Store, now


def media_link(store: Store, transcript_id: int) -> str | None:
    """The linked recording's stored path (relative to the study, or absolute), or None."""
    return store.scalar("SELECT path FROM media_links WHERE transcript_id = ?", (transcript_id,))


def media_links(store: Store) -> dict[int, str]:
    """Every link: transcript id -> stored path."""
    return {r["transcript_id"]: r["path"] for r in store.rows(
        "SELECT transcript_id, path FROM media_links")}


def set_media_link(store: Store, transcript_id: int, path: str | None) -> bool:
    """Link (or, with None, unlink) a transcript's recording; True when it changed."""
    with store.transaction():
        old = media_link(store, transcript_id)
        if old == path:
            return False
        if path is None:
            store.execute("DELETE FROM media_links WHERE transcript_id = ?", (transcript_id,))
        else:
            store.execute(
                """INSERT INTO media_links (transcript_id, path, linked_at) VALUES (?,?,?)
                   ON CONFLICT (transcript_id) DO UPDATE SET path = excluded.path,
                   linked_at = excluded.linked_at""", (transcript_id, path, now()))
        store.log("media.link", transcript_id=transcript_id, old=old, new=path)
        return True


def transcript_row(store: Store, transcript_id: int) -> dict[str, Any]:
    """id, name, source_path and metadata (parsed) of a transcript."""
    import json

    row = store.one("SELECT id, name, source_path, metadata FROM transcripts WHERE id = ?",
                    (transcript_id,))
    if row is None:
        raise KeyError(transcript_id)
    row["metadata"] = json.loads(row["metadata"] or "{}")
    return row


def last_event(store: Store) -> int:
    """The id of the event log's last event: every change to segment times appends one."""
    return store.scalar("SELECT coalesce(max(id), 0) FROM events")


def transcript_text(store: Store, transcript_id: int) -> str:
    return store.scalar("SELECT text FROM transcripts WHERE id = ?", (transcript_id,)) or ""


def segment_timing(store: Store, transcript_id: int) -> list[dict[str, Any]]:
    """id, ordinal, start, end (characters), time_start, time_end of each segment, in order."""
    return store.rows(
        """SELECT id, ordinal, start, end, time_start, time_end FROM segments
           WHERE transcript_id = ? ORDER BY ordinal""", (transcript_id,))


def set_segment_time(store: Store, segment_id: int, which: str, seconds: float | None) -> bool:
    """Set a segment's ``start`` or ``end`` time (seconds); True when it changed."""
    if which not in ("start", "end"):
        raise ValueError(which)
    column = f"time_{which}"
    with store.transaction():
        row = store.one(f"SELECT transcript_id, {column} AS value FROM segments WHERE id = ?",
                        (segment_id,))
        if row is None:
            raise KeyError(segment_id)
        value = None if seconds is None else round(float(seconds), 3)
        if row["value"] == value:
            return False
        store.execute(f"UPDATE segments SET {column} = ? WHERE id = ?", (value, segment_id))
        store.log("segment.time", segment_id=segment_id, which=which, old=row["value"],
                  new=value)
        return True


def plan_merged_links(store: Store, conn: sqlite3.Connection, transcripts: dict[int, int],
                      their_root: Path, notes: list[str]) -> list[tuple[int, str]]:
    """The other copy's media links to bring over: (our transcript id, path as stored here).

    Their relative paths are relative to their study (or, when this copy has a file at the
    same relative path, stay as they are); a link here is kept (a different one there is
    noted in ``notes``).
    """
    from coder.media.find import is_file, stored_path, unusable

    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'media_links'").fetchone():
        return []
    root = store.path.parent
    out = []
    for their_id, path in conn.execute("SELECT transcript_id, path FROM media_links"):
        ours = transcripts.get(their_id)
        if ours is None:
            continue
        if unusable(path):
            notes.append(f"a recording link there: {unusable(path)}; not merged")
            continue
        full = Path(path) if Path(path).is_absolute() else their_root / path
        here, theirs = media_link(store, ours), stored_path(full, root)
        if not Path(path).is_absolute() and is_file(root / path):
            full, theirs = root / path, path  # the same file in this copy of the study
        if here is None:
            out.append((ours, theirs))
        elif here != theirs and stored_path(root / here, root) != theirs:
            name = store.scalar("SELECT name FROM transcripts WHERE id = ?", (ours,))
            notes.append(f"transcript {name!r}: its recording is {here} here and {theirs} "
                         "there; kept this one")
    return out


def plan_merged_times(store: Store, conn: sqlite3.Connection, segments: dict[int, int],
                      notes: list[str]) -> list[tuple[int, str, float | None]]:
    """Segment times the other copy set from playback, to bring over: (our segment id,
    "start" | "end", value). A time set here too (and different) is kept, and noted."""
    import json

    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'events'").fetchone():
        return []
    touched: dict[tuple[int, str], None] = {}
    for (payload,) in conn.execute(
            "SELECT payload FROM events WHERE action = 'segment.time' ORDER BY id"):
        try:
            event = json.loads(payload)
            key = (int(event["segment_id"]), str(event["which"]))
        except (ValueError, KeyError, TypeError):
            continue
        if key[0] in segments and key[1] in ("start", "end"):
            touched[key] = None
    out: list[tuple[int, str, float | None]] = []
    for their_id, which in touched:
        row = conn.execute(f"SELECT time_{which} FROM segments WHERE id = ?",
                           (their_id,)).fetchone()
        theirs = row[0] if row else None
        if theirs is not None and not isinstance(theirs, int | float):
            continue
        ours_id = segments[their_id]
        here = store.scalar(f"SELECT time_{which} FROM segments WHERE id = ?", (ours_id,))
        if here == theirs:
            continue
        set_here = store.scalar(
            """SELECT 1 FROM events WHERE action = 'segment.time'
               AND json_extract(payload, '$.segment_id') = ?
               AND json_extract(payload, '$.which') = ? LIMIT 1""", (ours_id, which))
        if set_here:
            where = store.one("""SELECT t.name, s.ordinal FROM segments s JOIN transcripts t
                                 ON t.id = s.transcript_id WHERE s.id = ?""", (ours_id,))
            assert where is not None
            notes.append(f"{where['name']} ¶{where['ordinal']}: its {which} time was set "
                         f"here ({here}) and there ({theirs}); kept this one")
            continue
        out.append((ours_id, which, None if theirs is None else float(theirs)))
    return out
