"""Transcripts, their segments and speakers: storing, replacing and listing them."""

from __future__ import annotations

import json
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from coder.errors import CoderError
from coder.store.db import Store, inserted_id, now


@dataclass
class SegmentRow:
    """A segment ready to store: offsets into the transcript's stored text."""

    ordinal: int
    speaker: str | None
    start: int
    end: int
    time_start: float | None
    time_end: float | None
    text: str
    lemmas: str = ""
    tokens: str = ""
    page: int | None = None  # the page it starts on (PDF)


@dataclass
class ReplaceReport:
    kept_segments: int = 0
    kept_codings: int = 0
    lost_codings: list[dict[str, Any]] = field(default_factory=list)


def get_transcript(store: Store, name: str) -> dict[str, Any]:
    row = store.one("SELECT * FROM transcripts WHERE name = ?", (name,))
    if row is None:
        row = store.one("SELECT * FROM transcripts WHERE name = ? COLLATE NOCASE", (name,))
    if row is None:
        import difflib

        names = [r["name"] for r in store.rows("SELECT name FROM transcripts")]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise CoderError(f"no transcript named {name!r}{hint}")
    row["metadata"] = json.loads(row["metadata"])
    return row


def speaker_ids(store: Store, names: set[str]) -> dict[str, int]:
    """Ids for speakers by name, adding the ones the study does not have yet."""
    ids: dict[str, int] = {}
    for name in sorted(names):
        row = store.one("SELECT id FROM speakers WHERE name = ?", (name,))
        if row is None:
            ids[name] = inserted_id(store.execute("INSERT INTO speakers (name) VALUES (?)",
                                                  (name,)))
            store.log("speaker.add", speaker_id=ids[name], name=name)
        else:
            ids[name] = row["id"]
    return ids


def set_speaker_attributes(store: Store, attributes: dict[str, dict[str, str]]) -> int:
    """Attach key/value attributes to speakers (added if new); returns values changed."""
    changed = 0
    ids = speaker_ids(store, set(attributes))
    for name, values in attributes.items():
        for key, value in values.items():
            old = store.scalar(
                "SELECT value FROM speaker_attributes WHERE speaker_id = ? AND key = ?",
                (ids[name], key))
            if old == value:
                continue
            store.execute(
                """INSERT INTO speaker_attributes (speaker_id, key, value) VALUES (?,?,?)
                   ON CONFLICT (speaker_id, key) DO UPDATE SET value = excluded.value""",
                (ids[name], key, value))
            store.log("speaker.attribute", speaker=name, key=key, old=old, new=value)
            changed += 1
    return changed


def insert_transcript(store: Store, *, name: str, source_path: str, sha256: str, fmt: str,
                      segmentation: str, metadata: dict, text: str,
                      segments: list[SegmentRow],
                      prepare: Callable[[list[SegmentRow]], None] | None = None) -> int:
    """Store a new transcript and its segments; returns its id.

    With ``prepare``, segments are stored in batches, each passed to ``prepare`` first
    (to fill in lemmas and tokens) and emptied of them and of their text after, and the
    transcript's text is stored last: memory stays bounded for a huge file.
    """
    cursor = store.execute(
        """INSERT INTO transcripts (name, source_path, sha256, format, segmentation, metadata,
           text, imported_at) VALUES (?,?,?,?,?,?,?,?)""",
        (name, source_path, sha256, fmt, segmentation, json.dumps(metadata),
         "" if prepare else text, now()))
    transcript_id = inserted_id(cursor)
    _insert_segments(store, transcript_id, segments, prepare)
    if prepare:  # the text last, once the segments' copies of it are gone
        from coder.memory import give_back

        give_back()
        store.execute("UPDATE transcripts SET text = ? WHERE id = ?", (text, transcript_id))
    store.log("transcript.import", transcript_id=transcript_id, name=name, sha256=sha256,
              source_path=source_path, segments=len(segments), segmentation=segmentation)
    return transcript_id


def _insert_segments(store: Store, transcript_id: int, segments: list[SegmentRow],
                     prepare: Callable[[list[SegmentRow]], None] | None = None) -> None:
    ids = speaker_ids(store, {s.speaker for s in segments if s.speaker})
    last = store.scalar("SELECT coalesce(max(id), 0) FROM segments")
    step = 2000 if prepare else max(len(segments), 1)
    for first in range(0, len(segments), step):
        batch = segments[first:first + step]
        if prepare:
            prepare(batch)
        store.executemany(
            """INSERT INTO segments (transcript_id, ordinal, speaker_id, start, end, time_start,
               time_end, text, lemmas, tokens, page) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            [(transcript_id, s.ordinal, ids.get(s.speaker) if s.speaker else None, s.start,
              s.end, s.time_start, s.time_end, s.text, s.lemmas, s.tokens, s.page)
             for s in batch])
        if prepare:
            for s in batch:
                s.lemmas = s.tokens = s.text = ""
    # Index every segment this transaction adds in one statement at commit: FTS5 builds
    # one index segment instead of one per transcript.
    store.before_commit("segments_fts", lambda: store.execute(
        "INSERT INTO segments_fts (rowid, text) SELECT id, text FROM segments WHERE id > ?",
        (last,)))


def replace_transcript(store: Store, transcript_id: int, *, source_path: str, sha256: str,
                       fmt: str, segmentation: str, metadata: dict, text: str,
                       segments: list[SegmentRow]) -> ReplaceReport:
    """Swap in new content, keeping the segments (and their codings) whose text is unchanged.

    Old and new segments are aligned by their text in document order; a kept segment keeps
    its id, so its codings, reviewed marks and memos stay with it.
    """
    import difflib

    report = ReplaceReport()
    old = store.rows(
        "SELECT id, ordinal, start, text FROM segments WHERE transcript_id = ? ORDER BY ordinal",
        (transcript_id,))
    matcher = difflib.SequenceMatcher(
        a=[r["text"] for r in old], b=[s.text for s in segments], autojunk=False)
    keep: dict[int, int] = {}  # new index -> old segment id
    old_start: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            keep[block.b + k] = old[block.a + k]["id"]
            old_start[old[block.a + k]["id"]] = old[block.a + k]["start"]
    kept_ids = set(keep.values())
    lost = [r for r in old if r["id"] not in kept_ids]
    if lost:
        marks = ",".join("?" * len(lost))
        report.lost_codings = store.rows(
            f"""SELECT s.ordinal AS segment, c.name AS code, g.coder, g.origin
                FROM codings g JOIN segments s ON s.id = g.segment_id
                JOIN codes c ON c.id = g.code_id WHERE g.segment_id IN ({marks})
                ORDER BY s.ordinal, c.name, g.coder""", tuple(r["id"] for r in lost))
        store.execute(f"DELETE FROM memos WHERE kind = 'segment' AND target_id IN ({marks})",
                      tuple(r["id"] for r in lost))
        store.execute(f"DELETE FROM segments WHERE id IN ({marks})", tuple(r["id"] for r in lost))
    # Park kept ordinals out of the way so the new numbering cannot collide.
    store.execute("UPDATE segments SET ordinal = -ordinal WHERE transcript_id = ?",
                  (transcript_id,))
    ids = speaker_ids(store, {s.speaker for s in segments if s.speaker})
    fresh: list[SegmentRow] = []
    for index, seg in enumerate(segments):
        if index in keep:
            store.execute(
                """UPDATE segments SET ordinal = ?, speaker_id = ?, start = ?, end = ?,
                   time_start = ?, time_end = ?, lemmas = ?, tokens = ?, page = ? WHERE id = ?""",
                (seg.ordinal, ids.get(seg.speaker) if seg.speaker else None, seg.start, seg.end,
                 seg.time_start, seg.time_end, seg.lemmas, seg.tokens, seg.page, keep[index]))
            shift = seg.start - old_start[keep[index]]
            if shift:  # spans are offsets into the transcript text: move them with the segment
                store.execute(
                    """UPDATE codings SET span_start = span_start + ?, span_end = span_end + ?
                       WHERE segment_id = ? AND span_start IS NOT NULL""",
                    (shift, shift, keep[index]))
        else:
            fresh.append(seg)
    _insert_segments(store, transcript_id, fresh)
    store.execute(
        """UPDATE transcripts SET source_path = ?, sha256 = ?, format = ?, segmentation = ?,
           metadata = ?, text = ?, imported_at = ? WHERE id = ?""",
        (source_path, sha256, fmt, segmentation, json.dumps(metadata), text, now(),
         transcript_id))
    report.kept_segments = len(keep)
    if keep:
        marks = ",".join("?" * len(kept_ids))
        report.kept_codings = store.scalar(
            f"SELECT count(*) FROM codings WHERE segment_id IN ({marks})", tuple(kept_ids))
    store.log("transcript.replace", transcript_id=transcript_id, sha256=sha256,
              segments=len(segments), kept_segments=len(keep),
              lost_codings=report.lost_codings)
    return report


def list_transcripts(store: Store, coder: str | None = None) -> list[dict[str, Any]]:
    """Transcripts with segment counts and, for ``coder``, reviewed and coded counts."""
    rows = store.rows(
        """SELECT t.id, t.name, t.format, t.segmentation, t.metadata, t.source_path,
                  t.imported_at,
                  (SELECT count(*) FROM segments s WHERE s.transcript_id = t.id) AS segments,
                  (SELECT count(DISTINCT s.speaker_id) FROM segments s
                   WHERE s.transcript_id = t.id) AS speakers,
                  (SELECT count(*) FROM reviewed r JOIN segments s ON s.id = r.segment_id
                   WHERE s.transcript_id = t.id AND r.coder = :coder) AS reviewed,
                  (SELECT count(*) FROM codings g JOIN segments s ON s.id = g.segment_id
                   WHERE s.transcript_id = t.id AND g.coder = :coder) AS codings
           FROM transcripts t ORDER BY t.name""", {"coder": coder or ""})
    for row in rows:
        row["metadata"] = json.loads(row["metadata"])
        row["kind"] = row["metadata"].get("kind", "")
    return rows


def list_segments(store: Store, transcript_id: int, coder: str | None = None,
                  ordinals: Container[int] | None = None) -> list[dict[str, Any]]:
    """Segments in order with speaker, and the codes ``coder`` gave (all coders if None):
    ``codes`` (whole-segment codings) and ``spans`` (code, coder, start, end, text, memo;
    offsets in the segment's text)."""
    rows = store.rows(
        """SELECT s.id, s.ordinal, s.start, s.end, s.time_start, s.time_end, s.page, s.text,
                  sp.name AS speaker,
                  (SELECT value FROM speaker_attributes a WHERE a.speaker_id = s.speaker_id
                   AND a.key = 'role') AS role,
                  EXISTS (SELECT 1 FROM reviewed r WHERE r.segment_id = s.id
                          AND r.coder = :coder) AS reviewed
           FROM segments s LEFT JOIN speakers sp ON sp.id = s.speaker_id
           WHERE s.transcript_id = :t ORDER BY s.ordinal""", {"t": transcript_id,
                                                              "coder": coder or ""})
    if ordinals is not None:  # a set, or intervals (coder.ranges): never expanded
        rows = [r for r in rows if r["ordinal"] in ordinals]
    codes = store.rows(
        """SELECT g.segment_id, c.name, g.coder FROM codings g JOIN codes c ON c.id = g.code_id
           JOIN segments s ON s.id = g.segment_id WHERE s.transcript_id = ?
           AND (? IS NULL OR g.coder = ?) AND g.span_start IS NULL
           ORDER BY c.position, c.name""",
        (transcript_id, coder, coder))
    from coder.store.spans import segment_spans

    spans = segment_spans(store, [r["id"] for r in rows], coder)
    by_segment: dict[int, list[str]] = {}
    for row in codes:
        label = row["name"] if coder else f"{row['name']} ({row['coder']})"
        by_segment.setdefault(row["segment_id"], []).append(label)
    for row in rows:
        row["reviewed"] = bool(row["reviewed"])
        row["codes"] = by_segment.get(row["id"], [])
        row["spans"] = [{k: span[k] for k in ("code", "coder", "start", "end", "text", "memo")}
                        for span in spans.get(row["id"], [])]
    return rows


def segment_id(store: Store, transcript: str, ordinal: int) -> tuple[dict[str, Any], int]:
    """The transcript row and the id of its segment number ``ordinal``."""
    row = get_transcript(store, transcript)
    found = store.scalar("SELECT id FROM segments WHERE transcript_id = ? AND ordinal = ?",
                         (row["id"], ordinal)) if 0 < ordinal < 2**63 else None
    if found is None:
        count = store.scalar("SELECT count(*) FROM segments WHERE transcript_id = ?",
                             (row["id"],))
        raise CoderError(f"{row['name']} has no segment {ordinal} (it has 1–{count})")
    return row, found


def _check_query(query: str) -> None:
    if not query.strip():
        raise CoderError("nothing to search for: give one or more words")


def _search_error(query: str) -> CoderError:
    return CoderError(f"cannot search for {query!r}: use words, \"quoted phrases\", "
                      "OR, NOT and prefix* (a lone operator or an unclosed quote is not a "
                      "search)")


def count_matches(store: Store, query: str) -> int:
    """How many segments match (FTS5 syntax)."""
    import sqlite3

    _check_query(query)
    try:
        return store.scalar("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH ?",
                            (query,))
    except sqlite3.OperationalError as exc:
        raise _search_error(query) from exc


def search(store: Store, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Full-text search over segment text (FTS5 syntax), best matches first."""
    import sqlite3

    _check_query(query)
    try:
        return store.rows(
            """SELECT t.name AS transcript, s.ordinal AS segment, sp.name AS speaker,
                      snippet(segments_fts, 0, '[', ']', '…', 12) AS snippet
               FROM segments_fts JOIN segments s ON s.id = segments_fts.rowid
               JOIN transcripts t ON t.id = s.transcript_id
               LEFT JOIN speakers sp ON sp.id = s.speaker_id
               WHERE segments_fts MATCH ? ORDER BY rank LIMIT ?""", (query, limit))
    except sqlite3.OperationalError as exc:
        raise _search_error(query) from exc


def remove_transcript(store: Store, name: str, *, force: bool = False) -> dict[str, int]:
    """Delete a transcript with its segments; refuses when it has codings unless ``force``."""
    with store.transaction():
        row = get_transcript(store, name)
        counts = {
            "segments": store.scalar("SELECT count(*) FROM segments WHERE transcript_id = ?",
                                     (row["id"],)),
            "codings": store.scalar(
                "SELECT count(*) FROM codings g JOIN segments s ON s.id = g.segment_id "
                "WHERE s.transcript_id = ?", (row["id"],)),
        }
        if counts["codings"] and not force:
            raise CoderError(f"{row['name']} has {counts['codings']} coding(s); pass --force to "
                             "delete them with it")
        store.execute(
            "DELETE FROM memos WHERE (kind = 'segment' AND target_id IN (SELECT id FROM "
            "segments WHERE transcript_id = ?)) OR (kind = 'transcript' AND target_id = ?)",
            (row["id"], row["id"]))
        store.execute("DELETE FROM transcripts WHERE id = ?", (row["id"],))
        store.log("transcript.remove", transcript_id=row["id"], name=row["name"],
                  sha256=row["sha256"], **counts)
        return counts


def transcript_hashes(store: Store) -> dict[str, str]:
    """Each transcript's name and the SHA-256 of the file it was imported from."""
    return {r["name"]: r["sha256"] for r in store.rows("SELECT name, sha256 FROM transcripts")}


# -- small reads for the importer, the workbench, media and quote banks -----------------------
def import_state(store: Store, name: str) -> dict[str, Any] | None:
    """What the importer compares with a file: id, sha256, segmentation, metadata (or None)."""
    return store.one("SELECT id, sha256, segmentation, metadata FROM transcripts WHERE name = ?",
                     (name,))


def transcript_id(store: Store, name: str) -> int | None:
    """The id of the transcript named ``name``, or None."""
    return store.scalar("SELECT id FROM transcripts WHERE name = ?", (name,))


def transcript_by_id(store: Store, transcript_id: int) -> dict[str, Any]:
    """``{"id", "name"}`` of one transcript (which exists)."""
    return store.one_existing("SELECT id, name FROM transcripts WHERE id = ?", (transcript_id,))


def transcript_names(store: Store) -> list[dict[str, Any]]:
    """``{"id", "name"}`` of every transcript, by name."""
    return store.rows("SELECT id, name FROM transcripts ORDER BY name")


def transcript_sources(store: Store) -> list[dict[str, Any]]:
    """``{"id", "source_path", "metadata"}`` of every transcript (metadata as stored: JSON)."""
    return store.rows("SELECT id, source_path, metadata FROM transcripts")


def transcript_metadata(store: Store) -> list[dict[str, Any]]:
    """Every transcript's metadata, decoded."""
    return [json.loads(r["metadata"] or "{}")
            for r in store.rows("SELECT metadata FROM transcripts")]


def speaker_attributes(store: Store) -> dict[int, dict[str, str]]:
    """Attributes per speaker id (keys lower-cased)."""
    out: dict[int, dict[str, str]] = {}
    for row in store.rows("SELECT speaker_id, key, value FROM speaker_attributes"):
        out.setdefault(row["speaker_id"], {})[row["key"].casefold()] = row["value"]
    return out


def segment_start(store: Store, segment_id: int) -> int:
    """Where segment ``segment_id`` (which exists) starts in its transcript's text."""
    return store.one_existing("SELECT start FROM segments WHERE id = ?", (segment_id,))["start"]
