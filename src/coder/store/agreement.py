"""What agreement reads: segments in scope, reviewed marks and codings per coder, in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coder.store.db import Store

# Coders left out of comparisons unless named: the consensus layer and automatic coding.
NOT_COMPARED = ("consensus", "auto")


def _in(column: str, ids: Iterable[int] | None) -> tuple[str, tuple[int, ...]]:
    if ids is None:
        return "1", ()
    ids = tuple(ids)
    return f"{column} IN ({','.join('?' * len(ids))})" if ids else "0", ids


def coders_with_work(store: Store, transcript_ids: Iterable[int] | None = None, *,
                     codings_too: bool = False) -> list[str]:
    """Coders who reviewed a segment (or, with ``codings_too``, coded one) in scope."""
    tables = ["reviewed", "codings"] if codings_too else ["reviewed"]
    if transcript_ids is None:  # the coder indexes answer this without touching segments
        sql = " UNION ".join(f"SELECT DISTINCT coder FROM {t}" for t in tables)
        return sorted(row[0] for row in store.conn.execute(sql))
    where, params = _in("s.transcript_id", transcript_ids)
    sql = " UNION ".join(f"""SELECT DISTINCT x.coder FROM {t} x JOIN segments s
                             ON s.id = x.segment_id WHERE {where}""" for t in tables)
    return sorted(row[0] for row in store.conn.execute(sql, params * len(tables)))


def has_work(store: Store, coder: str) -> bool:
    """Whether ``coder`` has a coding, a reviewed mark or a memo."""
    return any(store.conn.execute(f"SELECT 1 FROM {table} WHERE coder = ? LIMIT 1",
                                  (coder,)).fetchone()
               for table in ("codings", "reviewed", "memos"))


def all_coders(store: Store) -> set[str]:
    """Every coder name with a coding, a reviewed mark or a memo."""
    return {row[0] for row in store.conn.execute(
        "SELECT coder FROM codings UNION SELECT coder FROM reviewed UNION SELECT coder FROM memos")}


def scope_segments(store: Store, transcript_ids: Iterable[int] | None = None) -> list[tuple]:
    """(id, transcript_id, ordinal, start, end) of the segments in scope, in document order
    (transcripts by name)."""
    where, params = _in("s.transcript_id", transcript_ids)
    return store.conn.execute(
        f"""SELECT s.id, s.transcript_id, s.ordinal, s.start, s.end FROM segments s
            JOIN transcripts t ON t.id = s.transcript_id WHERE {where}
            ORDER BY t.name, s.ordinal""", params).fetchall()


def transcript_names(store: Store) -> dict[int, str]:
    return dict(store.conn.execute("SELECT id, name FROM transcripts"))


def reviewed_array(store: Store, coder: str):
    """Ids of the segments ``coder`` reviewed, as a numpy array (read in bulk)."""
    return _integers(store, "SELECT group_concat(segment_id) FROM reviewed WHERE coder = ?",
                     (coder,))


def coding_array(store: Store, coder: str):
    """``coder``'s codings as an (n, 2) numpy array of (segment_id, code_id), read in bulk:
    one string of packed integers parsed by numpy, several times faster than rows."""
    import numpy as np

    shift = max(int(store.scalar("SELECT coalesce(max(id), 0) FROM codes")).bit_length(), 1)
    packed = _integers(store, f"SELECT group_concat((segment_id << {shift}) | code_id) "
                              "FROM codings WHERE coder = ?", (coder,))
    return np.stack([packed >> shift, packed & ((1 << shift) - 1)], axis=1)


def _integers(store: Store, sql: str, params: tuple):
    import numpy as np

    text = store.conn.execute(sql, params).fetchone()[0]
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def code_tree(store: Store) -> list[dict[str, Any]]:
    """Every code in tree order with ``path`` and ``depth``, like ``list_codes`` but without
    its coding counts (which cost seconds on large studies)."""
    rows = store.rows("SELECT id, name, parent_id, position, definition, exclusive "
                      "FROM codes ORDER BY position, id")
    children: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        row["exclusive"] = bool(row["exclusive"])
        children.setdefault(row["parent_id"], []).append(row)
    ordered: list[dict[str, Any]] = []
    stack = [(row, 0, "") for row in reversed(children.get(None, []))]
    while stack:
        row, depth, path = stack.pop()
        row["depth"] = depth
        row["path"] = f"{path}/{row['name']}" if path else row["name"]
        ordered.append(row)
        stack += [(child, depth + 1, row["path"])
                  for child in reversed(children.get(row["id"], []))]
    return ordered


def codings_by(store: Store, coder: str, *, spans: bool = False) -> list[tuple]:
    """``coder``'s codings as (segment_id, code_id) or, with ``spans``, (segment_id, code_id,
    span_start, span_end)."""
    columns = "segment_id, code_id" + (", span_start, span_end" if spans else "")
    return store.conn.execute(
        f"SELECT {columns} FROM codings WHERE coder = ?", (coder,)).fetchall()


def segment_details(store: Store, segment_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Transcript name, ordinal, speaker and text of segments, by id."""
    ids = sorted(set(segment_ids))
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for row in store.rows(
                f"""SELECT s.id, t.name AS transcript, s.ordinal, sp.name AS speaker, s.text
                    FROM segments s JOIN transcripts t ON t.id = s.transcript_id
                    LEFT JOIN speakers sp ON sp.id = s.speaker_id
                    WHERE s.id IN ({','.join('?' * len(chunk))})""", tuple(chunk)):
            out[row["id"]] = row
    return out


def segment_memos(store: Store, segment_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Memos on segments: {segment id: {coder: text}}."""
    ids = sorted(set(segment_ids))
    out: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for seg, coder, text in store.conn.execute(
                f"""SELECT target_id, coder, text FROM memos WHERE kind = 'segment'
                    AND target_id IN ({','.join('?' * len(chunk))}) ORDER BY id""",
                tuple(chunk)):
            out.setdefault(seg, {}).setdefault(coder, text)
    return out
