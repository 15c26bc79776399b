"""Codings and reviewed marks: apply, remove, bulk import and export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coder.errors import CoderError
from coder.store.codes import find_code
from coder.store.db import Store, now
from coder.store.schema import ORIGINS
from coder.store.transcripts import get_transcript, segment_id

# Codings a person makes while looking at the segment: they count as reviewing it.
LOOKED_AT_ORIGINS = frozenset({"manual", "suggestion"})


def apply_coding(store: Store, segment: int, code_id: int, *, coder: str,
                 origin: str = "manual", memo: str | None = None,
                 span: tuple[int, int] | None = None) -> bool:
    """Give ``segment`` the code; returns False when the coder had already given it.

    The children of an ``exclusive`` code are one choice: giving a segment one of them
    takes the coder's other choice in that group off it (in the same transaction). The
    group code itself is not applied.

    Coded means looked at: a coding a person makes (origin ``manual`` or ``suggestion``)
    marks the segment reviewed by that coder, in the same transaction (undone with it).
    Imported and automatic codings do not (their commands mark reviewed on request).
    """
    if origin not in ORIGINS:
        raise CoderError(f"origin must be one of {', '.join(ORIGINS)}, not {origin!r}")
    with store.transaction():
        span_start, span_end = span if span else (None, None)
        code = store.one(
            """SELECT c.name, c.exclusive, c.codable, c.parent_id, p.exclusive AS in_group
               FROM codes c LEFT JOIN codes p ON p.id = c.parent_id WHERE c.id = ?""",
            (code_id,))
        if code is None:
            raise CoderError(f"no code with id {code_id}")
        if not code["codable"] and not code["exclusive"]:
            raise CoderError(f"{code['name']!r} is a folder for its child codes (not codable): "
                             "apply one of them")
        if code["exclusive"]:
            values = [r["name"] for r in store.rows(
                "SELECT name FROM codes WHERE parent_id = ? ORDER BY position", (code_id,))]
            raise CoderError(f"{code['name']!r} is a group of exclusive choices: apply one "
                             f"of {', '.join(repr(v) for v in values)}")
        if code["in_group"] and span is None:
            for other in store.rows(
                    """SELECT DISTINCT g.code_id FROM codings g JOIN codes c ON c.id = g.code_id
                       WHERE g.segment_id = ? AND g.coder = ? AND c.parent_id = ?
                       AND g.code_id != ? AND g.span_start IS NULL""",
                    (segment, coder, code["parent_id"], code_id)):
                remove_coding(store, segment, other["code_id"], coder=coder)
        exists = store.one(
            """SELECT id FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?
               AND span_start IS ? AND span_end IS ?""",
            (segment, code_id, coder, span_start, span_end))
        if exists:
            if origin in LOOKED_AT_ORIGINS:
                mark_reviewed(store, [segment], coder=coder)
            return False
        created = now()
        cursor = store.execute(
            """INSERT INTO codings (segment_id, code_id, coder, origin, memo, span_start,
               span_end, created_at) VALUES (?,?,?,?,?,?,?,?)""",
            (segment, code_id, coder, origin, memo, span_start, span_end, created))
        store.log("coding.add", coding_id=cursor.lastrowid, segment_id=segment, code_id=code_id,
                  coder=coder, origin=origin, memo=memo, span=list(span) if span else None,
                  created_at=created)
        if origin in LOOKED_AT_ORIGINS:
            mark_reviewed(store, [segment], coder=coder)
        return True


def remove_coding(store: Store, segment: int, code_id: int, *, coder: str,
                  spans: bool = True) -> int:
    """Take the code off ``segment`` for ``coder``: the whole-segment coding and, unless
    ``spans`` is False, every span coding of it too; returns codings removed."""
    with store.transaction():
        rows = store.rows(
            "SELECT * FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?"
            + ("" if spans else " AND span_start IS NULL"),
            (segment, code_id, coder))
        for row in rows:
            remove_coding_row(store, row)
        return len(rows)


def remove_coding_row(store: Store, row: dict[str, Any]) -> None:
    """Delete one coding (a row of ``codings``), logging it so undo can put it back."""
    store.execute("DELETE FROM codings WHERE id = ?", (row["id"],))
    store.log("coding.remove", coding_id=row["id"], segment_id=row["segment_id"],
              code_id=row["code_id"], coder=row["coder"], origin=row["origin"],
              memo=row["memo"], span=[row["span_start"], row["span_end"]]
              if row["span_start"] is not None else None, created_at=row["created_at"])


def mark_reviewed(store: Store, segments: list[int], *, coder: str) -> int:
    """Mark segments as reviewed by ``coder``; returns how many were newly marked."""
    with store.transaction():
        added = 0
        for seg in segments:
            created = now()
            cursor = store.execute(
                "INSERT OR IGNORE INTO reviewed (segment_id, coder, created_at) VALUES (?,?,?)",
                (seg, coder, created))
            if cursor.rowcount:
                added += 1
                store.log("review.add", segment_id=seg, coder=coder, created_at=created)
        return added


def unmark_reviewed(store: Store, segments: list[int], *, coder: str) -> int:
    with store.transaction():
        removed = 0
        for seg in segments:
            # The mark's time goes into the event so that undo can restore it exactly.
            created = store.scalar(
                "SELECT created_at FROM reviewed WHERE segment_id = ? AND coder = ?", (seg, coder))
            if created is None:
                continue
            store.execute("DELETE FROM reviewed WHERE segment_id = ? AND coder = ?", (seg, coder))
            removed += 1
            store.log("review.remove", segment_id=seg, coder=coder, created_at=created)
        return removed


@dataclass
class RowProblem:
    row: int  # line number in the file (the header is line 1)
    reason: str


def import_codings(store: Store, rows: list[dict[str, str]], *, default_coder: str,
                   origin: str = "import") -> tuple[int, int, list[RowProblem]]:
    """Apply codings from table rows (transcript, segment, code, coder[, memo]) and, for a
    span coding, ``start``/``end`` (offsets in the segment's text) or the coded words
    (``span_text``, or ``text`` when the file has neither; the first time they occur, or
    the ``occurrence``-th). Words equal to the whole segment make a whole-segment coding.

    All or nothing: if any row is bad, nothing is written and every bad row is reported.
    Returns (added, already present, problems).
    """
    problems: list[RowProblem] = []
    resolved: list[tuple[int, int, str, str | None, tuple[int, int] | None]] = []
    # ``text`` names the coded words only in a file without span columns: in an export it
    # is the whole segment's text.
    words_from_text = not rows or not {"start", "end", "span_text"} & set(rows[0])
    numbers: list[int] = []
    transcripts: dict[str, int | None] = {}
    codes: dict[str, int | None] = {}
    for number, row in enumerate(rows, start=2):
        name = (row.get("transcript") or "").strip()
        ordinal_text = (row.get("segment") or "").strip()
        code_name = (row.get("code") or "").strip()
        coder = (row.get("coder") or "").strip() or default_coder
        memo = (row.get("memo") or "").strip() or None
        if not name or not ordinal_text or not code_name:
            problems.append(RowProblem(number, "transcript, segment and code are required"))
            continue
        if name not in transcripts:
            try:
                transcripts[name] = get_transcript(store, name)["id"]
            except CoderError:
                transcripts[name] = None
        if transcripts[name] is None:
            problems.append(RowProblem(number, f"no transcript named {name!r}"))
            continue
        try:
            ordinal = int(ordinal_text)
        except ValueError:
            problems.append(RowProblem(number, f"segment {ordinal_text!r} is not a number"))
            continue
        seg = store.scalar("SELECT id FROM segments WHERE transcript_id = ? AND ordinal = ?",
                           (transcripts[name], ordinal)) if 0 < ordinal < 2**63 else None
        if seg is None:
            problems.append(RowProblem(number, f"{name} has no segment {ordinal}"))
            continue
        if code_name.casefold() not in codes:
            try:
                codes[code_name.casefold()] = find_code(store, code_name)["id"]
            except CoderError as exc:
                codes[code_name.casefold()] = None
                problems.append(RowProblem(number, exc.reason))
                continue
        code_id = codes[code_name.casefold()]
        if code_id is None:
            problems.append(RowProblem(number, f"no code named {code_name!r}"))
            continue
        try:
            span = _row_span(store, seg, row, words_from_text)
        except CoderError as exc:
            problems.append(RowProblem(number, exc.reason))
            continue
        resolved.append((seg, code_id, coder, memo, span))
        numbers.append(number)
    problems += _exclusive_conflicts(store, [r for r in resolved if r[4] is None],
                                     rows_of=[n for n, r in zip(numbers, resolved, strict=True)
                                              if r[4] is None])
    if problems:
        return 0, 0, sorted(problems, key=lambda p: p.row)
    added = present = 0
    with store.transaction():
        for seg, code_id, coder, memo, span in resolved:
            if apply_coding(store, seg, code_id, coder=coder, origin=origin, memo=memo,
                            span=span):
                added += 1
            else:
                present += 1
    return added, present, []


def _row_span(store: Store, segment: int, row: dict[str, str],
              words_from_text: bool) -> tuple[int, int] | None:
    """The span (transcript offsets) a table row names, or None for the whole segment."""
    from coder.spans import find_text, strip_span

    start, end = (row.get("start") or "").strip(), (row.get("end") or "").strip()
    words = row.get("span_text") or (row.get("text") if words_from_text else "") or ""
    if not (start or end or words.strip()):
        return None
    offset, text = store.one_existing("SELECT start, text FROM segments WHERE id = ?",
                                      (segment,)).values()
    if start or end:
        if not (start.isdigit() and end.isdigit()):
            raise CoderError(f"start and end must both be whole numbers, not {start!r}, {end!r}")
        a, b = strip_span(text, int(start), int(end))
        if words.strip() and text[a:b] != words.strip():
            raise CoderError(f"characters {start}-{end} hold {text[a:b][:40]!r}, not "
                             f"{words.strip()[:40]!r}")
        return offset + a, offset + b
    if words.strip() == text.strip():
        return None
    occurrence = (row.get("occurrence") or "1").strip()
    if not occurrence.isdigit():
        raise CoderError(f"occurrence {occurrence!r} is not a number")
    (a, b), _ = find_text(text, words, int(occurrence))
    return offset + a, offset + b


def _exclusive_conflicts(store: Store,
                         resolved: list[tuple[int, int, str, str | None, Any]],
                         rows_of: list[int]) -> list[RowProblem]:
    """Rows that give one segment two choices of one exclusive group (for one coder)."""
    groups = {r["id"]: r for r in store.rows(
        """SELECT c.id, p.id AS group_id, p.name AS group_name FROM codes c
           JOIN codes p ON p.id = c.parent_id WHERE p.exclusive = 1""")}
    exclusive = {r["id"] for r in store.rows("SELECT id FROM codes WHERE exclusive = 1")}
    seen: dict[tuple[int, str, int], tuple[int, int]] = {}
    problems = []
    for (seg, code_id, coder, _, _), number in zip(resolved, rows_of, strict=True):
        if code_id in exclusive:
            problems.append(RowProblem(number, "an exclusive group, not a code: apply one of "
                                               "its choices"))
            continue
        group = groups.get(code_id)
        if group is None:
            continue
        key = (seg, coder, group["group_id"])
        if key in seen and seen[key][0] != code_id:
            problems.append(RowProblem(number, f"a second choice of the exclusive group "
                                               f"{group['group_name']!r} for this segment and "
                                               f"coder (see line {seen[key][1]})"))
        seen.setdefault(key, (code_id, number))
    return problems


def export_codings(store: Store, coder: str | None = None) -> list[dict[str, Any]]:
    """Every coding (of ``coder``, or all) in document order, one row each. A span coding
    has ``start``/``end`` (offsets in the segment's text) and ``span_text``; a
    whole-segment coding has them empty."""
    rows = store.rows(
        """SELECT t.name AS transcript, s.ordinal AS segment, c.name AS code, g.coder,
                  g.origin, coalesce(g.memo, '') AS memo, g.span_start, g.span_end,
                  g.span_start - s.start AS start, g.span_end - s.start AS "end",
                  sp.name AS speaker, g.created_at, s.text
           FROM codings g JOIN segments s ON s.id = g.segment_id
           JOIN transcripts t ON t.id = s.transcript_id JOIN codes c ON c.id = g.code_id
           LEFT JOIN speakers sp ON sp.id = s.speaker_id
           WHERE (? IS NULL OR g.coder = ?)
           ORDER BY t.name, s.ordinal, c.position, c.name, g.coder,
                    coalesce(g.span_start, -1)""", (coder, coder))
    for row in rows:
        row["span_text"] = "" if row["start"] is None else row["text"][row["start"]:row["end"]]
    return rows


def apply_by_name(store: Store, transcript: str, ordinal: int, code: str, *, coder: str,
                  memo: str | None = None) -> tuple[dict[str, Any], bool]:
    """The CLI's `code apply`: returns the code row and whether it was new."""
    with store.transaction():
        _, seg = segment_id(store, transcript, ordinal)
        row = find_code(store, code)
        return row, apply_coding(store, seg, row["id"], coder=coder, memo=memo)


def remove_by_name(store: Store, transcript: str, ordinal: int, code: str, *,
                   coder: str) -> tuple[dict[str, Any], int]:
    with store.transaction():
        _, seg = segment_id(store, transcript, ordinal)
        row = find_code(store, code)
        return row, remove_coding(store, seg, row["id"], coder=coder)


# -- small reads for quote banks and reconciliation -----------------------------------------
def has_codings(store: Store, coder: str) -> bool:
    """Whether ``coder`` has any coding."""
    return store.scalar("SELECT 1 FROM codings WHERE coder = ? LIMIT 1", (coder,)) is not None


def whole_codes(store: Store, segment_id: int, coder: str) -> set[int]:
    """The codes ``coder`` gave the whole of segment ``segment_id`` (not only a span)."""
    return {r["code_id"] for r in store.rows(
        "SELECT code_id FROM codings WHERE segment_id = ? AND coder = ? AND span_start IS NULL",
        (segment_id, coder))}


def coded_segment_rows(store: Store, coder: str) -> list[dict[str, Any]]:
    """Rows (segment, code) of ``coder``'s codings with segment, speaker and transcript fields
    (metadata as stored: JSON), in document order."""
    return store.rows(
        """SELECT DISTINCT s.id AS segment_id, g.code_id, t.name AS transcript,
                  t.metadata, s.ordinal AS segment, s.speaker_id,
                  coalesce(sp.name, '') AS speaker, s.time_start, s.page, s.text, s.lemmas,
                  s.tokens
           FROM codings g JOIN segments s ON s.id = g.segment_id
           JOIN transcripts t ON t.id = s.transcript_id
           LEFT JOIN speakers sp ON sp.id = s.speaker_id
           WHERE g.coder = ? ORDER BY t.name, s.ordinal, g.code_id""", (coder,))
