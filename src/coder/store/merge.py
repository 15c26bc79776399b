"""Merging another copy of the study: its coders' codings, reviewed marks, memos, codes.

The other database is opened read-only (``mode=ro``, ``query_only``, ``trusted_schema``
off) and only read with plain SELECTs on tables checked to be ordinary tables; nothing in
it is executed. Transcripts match by content hash (sha256, preferring the same name),
segments by their offsets, codes by name (case-insensitive; a rename recorded in either
event log is followed). Whatever cannot be matched is reported as a conflict with what it
carried; nothing is dropped silently. The work is planned first and then written in one
transaction, so merging the same copy twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.formatting import control_characters, some, visible
from coder.store.db import Store, inserted_id, now
from coder.store.schema import MEMO_KINDS, ORIGINS, SCHEMA_VERSION

_REQUIRED = {
    "transcripts": ("id", "name", "sha256"),
    "segments": ("id", "transcript_id", "ordinal", "start", "end", "text"),
    "codes": ("id", "name", "parent_id", "definition", "include", "exclude", "examples",
              "color", "key", "patterns", "exclusive", "created_at"),
    "codings": ("segment_id", "code_id", "coder", "origin", "memo", "span_start", "span_end",
                "created_at"),
    "reviewed": ("segment_id", "coder", "created_at"),
    "memos": ("kind", "target_id", "coder", "text", "created_at", "updated_at"),
}
_TRAIL = ("segment_id", "transcript", "ordinal", "consensus", "adjudicator", "method", "note",
          "codes", "previous", "coders", "decided_at")


@dataclass
class Conflict:
    """Something in the other copy that could not be merged as it is."""

    kind: str  # transcript missing | transcript differs | segment missing | segment differs
    #            | code renamed | possible rename | memo differs | coding memo differs
    #            | exclusive choice differs
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class MergeReport:
    """What a merge did (or, with ``dry_run``, would do)."""

    source: str
    coders: dict[str, str] = field(default_factory=dict)  # their name -> name here
    transcripts_matched: int = 0
    codes_added: list[str] = field(default_factory=list)
    codings_added: int = 0
    codings_present: int = 0
    reviewed_added: int = 0
    memos_added: int = 0
    decisions_added: int = 0
    media_linked: int = 0
    times_set: int = 0  # segment times the other copy set from playback
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # differences kept as they are here

    @property
    def changed(self) -> bool:
        return bool(self.codes_added or self.codings_added or self.reviewed_added
                    or self.memos_added or self.decisions_added or self.media_linked
                    or self.times_set)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["conflicts"] = [c.__dict__ for c in self.conflicts]
        data["changed"] = self.changed
        return data


# -- opening the other copy ----------------------------------------------------------------
def other_database(path: Path) -> Path:
    """The database file for OTHER: a study folder (its coder.db) or a database file."""
    from coder.study import CONFIG_NAME, DB_NAME

    if path.is_dir():
        db = path / DB_NAME
        if not db.is_file():
            what = "a study without a database yet" if (path / CONFIG_NAME).is_file() else \
                "not a coder study"
            raise CoderError(f"no {DB_NAME} here ({what})", path=path)
        return db
    if not path.exists():
        raise CoderError("no such file or folder", path=path)
    return path


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open a coder database read-only and check it has the tables a merge reads."""
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise CoderError(f"cannot open as a database ({exc})", path=path) from exc
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        tables = {name: sql or "" for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
        for table, columns in _REQUIRED.items():
            if table not in tables or tables[table].upper().startswith("CREATE VIRTUAL"):
                raise CoderError(f"not a coder study database (no table {table})", path=path)
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in columns if c not in have]
            if missing:
                raise CoderError(f"not a coder study database (table {table} lacks "
                                 f"{', '.join(missing)})", path=path)
    except sqlite3.Error as exc:
        conn.close()
        raise CoderError(f"not a coder study database ({exc})", path=path) from exc
    except CoderError:
        conn.close()
        raise
    return conn


def _text_hash(conn: sqlite3.Connection, transcript_id: int) -> str:
    """sha256 of a transcript's stored text (not of the file it came from)."""
    row = conn.execute("SELECT text FROM transcripts WHERE id = ?", (transcript_id,)).fetchone()
    return hashlib.sha256((row[0] if row else "").encode("utf-8")).hexdigest()


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> bool:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,)).fetchone():
        return False
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    return all(c in have for c in columns)


# -- the merge -------------------------------------------------------------------------------
def merge_study(store: Store, other: Path, *, coder_map: dict[str, str] | None = None,
                dry_run: bool = False) -> MergeReport:
    """Bring in the other copy's codings, reviewed marks, memos, codes and trail rows.

    ``coder_map`` renames the other copy's coders ({their name: name here}). One
    transaction, logged (``code.add``, ``coding.add``, ``review.add``, ``memo.add``, then
    ``study.merge`` with the counts and conflicts); nothing is written when nothing is new
    or with ``dry_run``.
    """
    db = other_database(other)
    if db.resolve() == store.path.resolve():
        raise CoderError("that is this study's own database", path=db)
    conn = open_read_only(db)
    try:
        merger = _Merger(store, conn, dict(coder_map or {}), str(other))
        merger.plan()
        from coder.store.media import plan_merged_links, plan_merged_times

        merger.media = plan_merged_links(store, conn, merger.transcript, db.parent,
                                         merger.report.notes)
        merger.report.media_linked = len(merger.media)
        merger.times = plan_merged_times(store, conn, merger.segment, merger.report.notes)
        merger.report.times_set = len(merger.times)
    except sqlite3.Error as exc:
        raise CoderError(f"cannot read the other study's database ({exc})", path=db) from exc
    finally:
        conn.close()
    if merger.report.changed and not dry_run:
        with store.transaction("merge"):
            merger.apply()
    return merger.report


class _Merger:
    """Plans a merge from the other database (read fully first), then applies it."""

    def __init__(self, store: Store, conn: sqlite3.Connection, coder_map: dict[str, str],
                 source: str):
        self.store, self.conn, self.map = store, conn, coder_map
        self.report = MergeReport(source=source)
        self.segment: dict[int, int] = {}  # their segment id -> ours
        self.transcript: dict[int, int] = {}  # their transcript id -> ours
        self.code: dict[int, int | None] = {}  # their code id -> ours (None: added below)
        self.new_codes: list[dict[str, Any]] = []
        self.codings: list[dict[str, Any]] = []
        self.reviewed: list[dict[str, Any]] = []
        self.memos: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.media: list[tuple[int, str]] = []  # (our transcript id, recording path)
        self.times: list[tuple[int, str, float | None]] = []  # segment times set there

    def coder(self, name: str) -> str:
        return self.map.get(name, name)

    # planning
    def plan(self) -> None:
        their_coders = {row[0] for row in self.conn.execute(
            "SELECT coder FROM codings UNION SELECT coder FROM reviewed "
            "UNION SELECT coder FROM memos")}
        unknown = sorted(set(self.map) - their_coders)
        if unknown:
            raise CoderError(f"--coder-map names coder(s) the other study does not have: "
                             f"{some(unknown)} (it has: "
                             f"{some(sorted(map(str, their_coders))) or 'none'})")
        self._validate(their_coders)
        self.report.coders = {c: self.coder(c) for c in sorted(their_coders)}
        self._plan_transcripts()
        self._plan_codes()
        self._plan_codings()
        self._plan_reviewed()
        self._plan_memos()
        self._plan_decisions()
        from coder.store.agreement import all_coders

        ours = all_coders(self.store)
        both = sorted({self.coder(c) for c in their_coders} & ours)
        if both and (self.codings or self.reviewed or self.memos):
            self.report.notes.append(
                f"coder(s) {', '.join(both)} have work in both studies: merged as one "
                "(--coder-map NAME=OTHER keeps them apart)")

    def _validate(self, their_coders: set[Any]) -> None:
        """Check the other study as an import would: nothing from it is trusted."""
        def refuse(reason: str) -> CoderError:
            return CoderError(f"refused to merge: {reason}; nothing was merged",
                              path=self.report.source)

        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if not isinstance(version, int) or not 0 < version <= SCHEMA_VERSION:
            raise refuse(f"its database has schema version {version}, "
                         + (f"newer than this coder understands ({SCHEMA_VERSION}): upgrade "
                            "coder" if isinstance(version, int) and version > 0
                            else "not one coder writes"))
        bad = [str(c) for c in their_coders if not isinstance(c, str) or not c.strip()
               or control_characters(c)]
        bad += [str(self.coder(c)) for c in their_coders
                if isinstance(c, str) and control_characters(self.coder(c))]
        if bad:
            raise refuse(f"{len(bad):,} coder name(s) are empty or hold control characters "
                         f"({some([visible(repr(b)) for b in sorted(set(bad))])})")
        names = [r[0] for r in self.conn.execute("SELECT name FROM codes")]
        bad = [repr(n) for n in names if not isinstance(n, str) or not n.strip()
               or control_characters(n)]
        if bad:
            raise refuse(f"{len(bad):,} code name(s) are empty or hold control characters "
                         f"({some([visible(b) for b in bad])})")
        bounds = {r[0]: (r[1], r[2]) for r in self.conn.execute(
            "SELECT id, start, end FROM segments")}
        wrong: list[str] = []
        for seg_id, start, end in self.conn.execute(
                "SELECT segment_id, span_start, span_end FROM codings"):
            if start is None and end is None:
                continue
            low, high = bounds.get(seg_id, (None, None))
            if not (isinstance(start, int) and isinstance(end, int) and isinstance(low, int)
                    and isinstance(high, int) and low <= start < end <= high):
                wrong.append(f"({start}, {end}) in segment {low}–{high}")
        bad_segments = [f"{r[0]}" for r in self.conn.execute(
            "SELECT id FROM segments WHERE typeof(start) != 'integer' OR typeof(end) != "
            "'integer' OR start < 0 OR end < start")]
        if bad_segments:
            raise refuse(f"{len(bad_segments):,} segment(s) have offsets that do not fit "
                         f"a transcript (segment id {some(bad_segments)})")
        if wrong:
            raise refuse(f"{len(wrong):,} coding span(s) lie outside their segment "
                         f"({some(wrong, 5)})")

    def _plan_transcripts(self) -> None:
        ours = self.store.rows("SELECT id, name, sha256 FROM transcripts")
        by_hash: dict[str, list[dict[str, Any]]] = {}
        for row in ours:
            by_hash.setdefault(row["sha256"], []).append(row)
        # The same stored text from another source file (a copy made from this study's own
        # REFI-QDA export, say) is the same transcript too.
        by_text: dict[str, list[dict[str, Any]]] = {}
        for row in ours:
            by_text.setdefault(_text_hash(self.store.conn, row["id"]), []).append(row)
        names = {row["name"] for row in ours}
        work = self._work_per_transcript()
        for theirs in _rows(self.conn, "SELECT id, name, sha256 FROM transcripts ORDER BY name"):
            candidates = (by_hash.get(theirs["sha256"])
                          or by_text.get(_text_hash(self.conn, theirs["id"]), []))
            match = next((r for r in candidates if r["name"] == theirs["name"]),
                         candidates[0] if candidates else None)
            if match is None:
                carried = work.get(theirs["id"], {})
                if not any(carried.values()):
                    continue
                kind = "transcript differs" if theirs["name"] in names else "transcript missing"
                why = ("a transcript of that name here has other content (re-imported or "
                       "edited?)" if kind == "transcript differs" else "not in this study")
                self._conflict(kind, f"transcript {theirs['name']!r}: {why}; "
                               f"{_carried(carried)} not merged",
                               transcript=theirs["name"], sha256=theirs["sha256"], **carried)
                continue
            self.transcript[theirs["id"]] = match["id"]
            self.report.transcripts_matched += 1
            self._plan_segments(theirs, match)

    def _work_per_transcript(self, segment_level: bool = False) -> dict[int, dict[str, int]]:
        """Codings, reviewed marks and segment memos per transcript (or segment) there."""
        key = "s.id" if segment_level else "s.transcript_id"
        out: dict[int, dict[str, int]] = {}
        for what, sql in (
                ("codings", "SELECT {k}, count(*) FROM codings g JOIN segments s "
                            "ON s.id = g.segment_id GROUP BY {k}"),
                ("reviewed", "SELECT {k}, count(*) FROM reviewed r JOIN segments s "
                             "ON s.id = r.segment_id GROUP BY {k}"),
                ("memos", "SELECT {k}, count(*) FROM memos m JOIN segments s "
                          "ON s.id = m.target_id WHERE m.kind = 'segment' GROUP BY {k}")):
            for owner, n in self.conn.execute(sql.format(k=key)):
                out.setdefault(owner, {"codings": 0, "reviewed": 0, "memos": 0})[what] = n
        return out

    def _plan_segments(self, theirs: dict[str, Any], match: dict[str, Any]) -> None:
        ours = {(r["start"], r["end"]): r for r in self.store.rows(
            "SELECT id, start, end, text FROM segments WHERE transcript_id = ?", (match["id"],))}
        work = None
        missing: list[tuple[dict[str, Any], dict[str, int]]] = []
        differ: list[tuple[dict[str, Any], dict[str, int]]] = []
        for seg in _rows(self.conn, """SELECT id, ordinal, start, end, text FROM segments
                                       WHERE transcript_id = ? ORDER BY ordinal""",
                         (theirs["id"],)):
            here = ours.get((seg["start"], seg["end"]))
            if here is not None and here["text"] == seg["text"]:
                self.segment[seg["id"]] = here["id"]
                continue
            if work is None:
                work = self._work_per_transcript(segment_level=True)
            carried = work.get(seg["id"])
            if carried and any(carried.values()):
                (missing if here is None else differ).append((seg, carried))
        for kind, found, why in (
                ("segment missing", missing, "no segment here has the same offsets "
                 "(segmented differently?)"),
                ("segment differs", differ, "the text at the same offsets differs here")):
            if not found:
                continue
            total = {k: sum(c[k] for _, c in found) for k in ("codings", "reviewed", "memos")}
            ordinals = [s["ordinal"] for s, _ in found]
            self._conflict(kind, f"{theirs['name']} ¶{_list(ordinals)}: {why}; "
                           f"{_carried(total)} not merged", transcript=theirs["name"],
                           segments=ordinals, **total)

    def _plan_codes(self) -> None:
        ours = {r["name"].casefold(): r for r in self.store.rows("SELECT * FROM codes")}
        by_id = {r["id"]: r for r in ours.values()}
        theirs = _rows(self.conn, f"SELECT {', '.join(_REQUIRED['codes'])} "
                                  "FROM codes ORDER BY id")
        their_by_id = {r["id"]: r for r in theirs}
        their_names = {r["name"].casefold() for r in theirs}
        renamed_there = _renames(_rows(self.conn, "SELECT payload FROM events WHERE action = "
                                                  "'code.rename'") if _has_table(
            self.conn, "events", ("action", "payload")) else [])
        renamed_here = _renames(self.store.rows(
            "SELECT payload FROM events WHERE action = 'code.rename'"))
        old_names_here: dict[str, int] = {}
        for code_id, olds in renamed_here.items():
            for old in olds:
                old_names_here.setdefault(old, code_id)
        for row in sorted(theirs, key=lambda r: _depth(r, their_by_id)):
            name = row["name"]
            here = ours.get(name.casefold())
            if here is None:
                here = self._renamed(row, renamed_there, old_names_here, ours, by_id)
            if here is not None:
                self.code[row["id"]] = here["id"]
                self._compare_code(row, here, their_by_id, by_id)
                continue
            same = [r for r in ours.values() if row["definition"].strip()
                    and r["definition"].strip() == row["definition"].strip()
                    and r["name"].casefold() not in their_names]
            if same:
                self._conflict("possible rename", f"code {name!r} there has the same definition "
                               f"as {same[0]['name']!r} here; added it as a new code (combine "
                               f"them with `coder code merge` if they are one code)",
                               code=name, here=same[0]["name"])
            self.code[row["id"]] = None
            self.new_codes.append(row)
            self.report.codes_added.append(name)

    def _renamed(self, row: dict[str, Any], renamed_there: dict[int, list[str]],
                 old_names_here: dict[str, int], ours: dict[str, dict[str, Any]],
                 by_id: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
        """Our code for their code whose name we lack, when a rename links them."""
        for old in renamed_there.get(row["id"], []):
            if old.casefold() in ours:
                here = ours[old.casefold()]
                self._conflict("code renamed", f"code {row['name']!r} was renamed there from "
                               f"{here['name']!r}: merged its work into {here['name']!r} here "
                               f"(`coder code rename` it here to take the new name)",
                               code=row["name"], here=here["name"], renamed="there")
                return here
        code_id = old_names_here.get(row["name"].casefold())
        if code_id is not None and code_id in by_id:
            here = by_id[code_id]
            self._conflict("code renamed", f"code {row['name']!r} there was renamed here to "
                           f"{here['name']!r}: merged its work into {here['name']!r}",
                           code=row["name"], here=here["name"], renamed="here")
            return here
        return None

    def _compare_code(self, row: dict[str, Any], here: dict[str, Any],
                      their_by_id: dict[int, dict[str, Any]],
                      by_id: dict[int, dict[str, Any]]) -> None:
        parent_there = their_by_id.get(row["parent_id"], {}).get("name")
        parent_here = by_id.get(here["parent_id"], {}).get("name")
        differences = []
        if (parent_there or "").casefold() != (parent_here or "").casefold():
            differences.append(f"parent {parent_there!r} there, {parent_here!r} here")
        if bool(row["exclusive"]) != bool(here["exclusive"]):
            differences.append("exclusive there" if row["exclusive"] else "exclusive here")
        if row["definition"].strip() != here["definition"].strip():
            differences.append("its definition differs")
        if differences:
            self.report.notes.append(f"code {here['name']!r}: {'; '.join(differences)} "
                                     "(kept this study's)")

    def _plan_codings(self) -> None:
        have = {tuple(r) for r in self.store.conn.execute(
            "SELECT segment_id, code_id, coder, coalesce(span_start, -1), "
            "coalesce(span_end, -1), coalesce(memo, '') FROM codings")}
        keys = {k[:5]: k[5] for k in have}
        # Children of an exclusive code are one choice per coder and segment.
        group_of = {r["id"]: r["parent_id"] for r in self.store.rows(
            """SELECT c.id, c.parent_id FROM codes c JOIN codes p ON p.id = c.parent_id
               WHERE p.exclusive""")}
        chosen = {(seg, group_of[code_id], coder): code_id
                  for seg, code_id, coder, start, _, _ in have if start == -1
                  and code_id in group_of}
        for row in _rows(self.conn, f"SELECT {', '.join(_REQUIRED['codings'])} FROM codings "
                                    "ORDER BY id"):
            seg = self.segment.get(row["segment_id"])
            if seg is None or row["code_id"] not in self.code:
                continue  # reported with its transcript or segment
            row = {**row, "segment_id": seg, "coder": self.coder(row["coder"])}
            if row["origin"] not in ORIGINS:
                row["origin"] = "import"
            code = self.code[row["code_id"]]
            key = (seg, code, row["coder"], _or(row["span_start"]), _or(row["span_end"]))
            if code is not None and key in keys:
                self.report.codings_present += 1
                if row["memo"] and row["memo"] != keys[key]:
                    self._conflict("coding memo differs", f"{self._where(seg)} "
                                   f"{self._code_name(row['code_id'])!r} by {row['coder']}: the "
                                   f"coding's memo differs; kept this study's",
                                   theirs=row["memo"], here=keys[key])
                continue
            if code in group_of and row["span_start"] is None:
                choice = (seg, group_of[code], row["coder"])
                if chosen.get(choice, code) != code:
                    self._conflict("exclusive choice differs", f"{self._where(seg)}: "
                                   f"{row['coder']} chose {self._code_name(row['code_id'])!r} "
                                   f"there and {self._name_here(chosen[choice])!r} here, in the "
                                   "exclusive group "
                                   f"{self._name_here(group_of[code])!r}; kept this study's",
                                   theirs=self._code_name(row["code_id"]),
                                   here=self._name_here(chosen[choice]))
                    continue
                chosen[choice] = code
            keys[key] = row["memo"] or ""
            self.codings.append(row)
        self.report.codings_added = len(self.codings)

    def _plan_reviewed(self) -> None:
        have = {tuple(r) for r in self.store.conn.execute("SELECT segment_id, coder FROM reviewed")}
        for row in _rows(self.conn, "SELECT segment_id, coder, created_at FROM reviewed"):
            seg = self.segment.get(row["segment_id"])
            coder = self.coder(row["coder"])
            if seg is None or (seg, coder) in have:
                continue
            have.add((seg, coder))
            self.reviewed.append({**row, "segment_id": seg, "coder": coder})
        self.report.reviewed_added = len(self.reviewed)

    def _plan_memos(self) -> None:
        have = {(r["kind"], r["target_id"], r["coder"]): r["text"] for r in self.store.rows(
            "SELECT kind, target_id, coder, text FROM memos")}
        targets = {"segment": self.segment, "transcript": self.transcript}
        for row in _rows(self.conn, "SELECT kind, target_id, coder, text, created_at, "
                                    "updated_at FROM memos ORDER BY id"):
            kind, coder = row["kind"], self.coder(row["coder"])
            if kind not in MEMO_KINDS:
                continue
            if kind == "study":
                target = None
            elif kind == "code":
                if row["target_id"] not in self.code:
                    continue
                target = self.code[row["target_id"]]
            else:
                target = targets[kind].get(row["target_id"])
                if target is None:
                    if kind == "transcript":
                        self._conflict("transcript missing", f"a transcript memo by {coder} is "
                                       "on a transcript not in this study; not merged",
                                       text=row["text"])
                    continue  # segment memos are counted with their segment
            key = (kind, target, coder)
            if target is not None or kind == "study":
                if key in have:
                    if have[key].strip() != row["text"].strip():
                        self._conflict("memo differs", f"{coder}'s memo on "
                                       f"{self._memo_target(kind, target, row)} differs; kept "
                                       "this study's", theirs=row["text"], here=have[key])
                    continue
                have[key] = row["text"]
            self.memos.append({**row, "coder": coder, "target": target,
                               "their_target": row["target_id"]})
        self.report.memos_added = len(self.memos)

    def _plan_decisions(self) -> None:
        if not _has_table(self.conn, "consensus_decisions", _TRAIL):
            return
        have = {tuple(r) for r in self.store.conn.execute(
            "SELECT consensus, adjudicator, decided_at, transcript, ordinal, note "
            "FROM consensus_decisions")}
        for row in _rows(self.conn, f"SELECT {', '.join(_TRAIL)} FROM consensus_decisions "
                                    "ORDER BY id"):
            seg = self.segment.get(row["segment_id"])
            if seg is None:
                continue
            row = {**row, "segment_id": seg, "consensus": self.coder(row["consensus"])}
            key = (row["consensus"], row["adjudicator"], row["decided_at"], row["transcript"],
                   row["ordinal"], row["note"])
            if key in have:
                continue
            have.add(key)
            self.decisions.append(row)
        self.report.decisions_added = len(self.decisions)

    # applying
    def apply(self) -> None:
        from coder.store.codes import _next_position

        store = self.store
        added: dict[int, int] = {}
        for row in self.new_codes:
            parent = row["parent_id"]
            parent_id = self.code.get(parent) if parent is not None else None
            if parent is not None and parent_id is None:
                parent_id = added.get(parent)
            key = row["key"]
            if key and store.scalar("SELECT 1 FROM codes WHERE key = ?", (key,)):
                self.report.notes.append(f"code {row['name']!r}: key {key!r} is taken here; "
                                         "added without a key")
                key = None
            cursor = store.execute(
                """INSERT INTO codes (name, parent_id, position, definition, include, exclude,
                   examples, color, key, patterns, exclusive, created_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
                (row["name"], parent_id, _next_position(store, parent_id), row["definition"],
                 row["include"], row["exclude"], row["examples"], row["color"], key,
                 row["patterns"], int(bool(row["exclusive"])), row["created_at"] or now()))
            added[row["id"]] = self.code[row["id"]] = inserted_id(cursor)
            new = store.one_existing("SELECT * FROM codes WHERE id = ?", (added[row["id"]],))
            parent_name = store.scalar("SELECT name FROM codes WHERE id = ?", (parent_id,))
            store.log("code.add", code_id=new["id"], name=new["name"], parent=parent_name,
                      definition=new["definition"], key=new["key"], color=new["color"],
                      row=new, source="merge")
        for row in self.codings:
            code_id = self.code[row["code_id"]]
            cursor = store.execute(
                """INSERT OR IGNORE INTO codings (segment_id, code_id, coder, origin, memo,
                   span_start, span_end, created_at) VALUES (?,?,?,?,?,?,?,?)""",
                (row["segment_id"], code_id, row["coder"], row["origin"], row["memo"],
                 row["span_start"], row["span_end"], row["created_at"]))
            if cursor.rowcount:
                span = [row["span_start"], row["span_end"]] \
                    if row["span_start"] is not None else None
                store.log("coding.add", coding_id=cursor.lastrowid, segment_id=row["segment_id"],
                          code_id=code_id, coder=row["coder"], origin=row["origin"],
                          memo=row["memo"], span=span, created_at=row["created_at"])
        for row in self.reviewed:
            store.execute("INSERT OR IGNORE INTO reviewed (segment_id, coder, created_at) "
                          "VALUES (?,?,?)", (row["segment_id"], row["coder"], row["created_at"]))
            store.log("review.add", segment_id=row["segment_id"], coder=row["coder"],
                      created_at=row["created_at"])
        for row in self.memos:
            target = row["target"]
            if row["kind"] == "code":
                target = self.code[row["their_target"]]
            cursor = store.execute(
                """INSERT INTO memos (kind, target_id, coder, text, created_at, updated_at)
                   VALUES (?,?,?,?,?,?)""",
                (row["kind"], target, row["coder"], row["text"], row["created_at"],
                 row["updated_at"]))
            store.log("memo.add", memo_id=cursor.lastrowid, kind=row["kind"], target_id=target,
                      coder=row["coder"], text=row["text"], created_at=row["created_at"],
                      updated_at=row["updated_at"])
        from coder.store.media import set_media_link, set_segment_time

        for transcript_id, path in self.media:
            set_media_link(store, transcript_id, path)
        for segment_id, which, seconds in self.times:
            set_segment_time(store, segment_id, which, seconds)
        decision_ids = []
        for row in self.decisions:
            cursor = store.execute(
                f"INSERT INTO consensus_decisions ({', '.join(_TRAIL)}) "
                f"VALUES ({','.join('?' * len(_TRAIL))})", tuple(row[c] for c in _TRAIL))
            decision_ids.append(cursor.lastrowid)
        report = self.report.as_dict()
        store.log("study.merge", source=report["source"], coders=report["coders"],
                  codes_added=report["codes_added"], codings_added=report["codings_added"],
                  reviewed_added=report["reviewed_added"], memos_added=report["memos_added"],
                  decision_ids=decision_ids, conflicts=[c["message"] for c in
                                                        report["conflicts"]])

    # words
    def _conflict(self, kind: str, message: str, **detail: Any) -> None:
        self.report.conflicts.append(Conflict(kind, message, detail))

    def _where(self, segment_id: int) -> str:
        row = self.store.one("""SELECT t.name, s.ordinal FROM segments s JOIN transcripts t
                                ON t.id = s.transcript_id WHERE s.id = ?""", (segment_id,))
        return f"{row['name']} ¶{row['ordinal']}" if row else f"segment #{segment_id}"

    def _code_name(self, their_id: int) -> str:
        row = self.conn.execute("SELECT name FROM codes WHERE id = ?", (their_id,)).fetchone()
        return row[0] if row else f"code #{their_id}"

    def _name_here(self, code_id: int) -> str:
        return self.store.scalar("SELECT name FROM codes WHERE id = ?", (code_id,)) or "?"

    def _memo_target(self, kind: str, target: int | None, row: dict[str, Any]) -> str:
        if kind == "segment" and target is not None:
            return self._where(target)
        if kind == "code":
            return f"code {self._code_name(row['target_id'])!r}"
        if kind == "transcript":
            name = self.store.scalar("SELECT name FROM transcripts WHERE id = ?", (target,))
            return f"transcript {name!r}"
        return "the study"


def _renames(rows: list[dict[str, Any]]) -> dict[int, list[str]]:
    """{code id: names it had before}, from ``code.rename`` events."""
    out: dict[int, list[str]] = {}
    for row in rows:
        try:
            payload = json.loads(row["payload"])
            out.setdefault(int(payload["code_id"]), []).append(str(payload["old"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _depth(row: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> int:
    depth, seen, parent = 0, set(), row["parent_id"]
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = by_id[parent]["parent_id"]
    return depth


def _or(value: int | None) -> int:
    return -1 if value is None else value


def _carried(counts: dict[str, int]) -> str:
    parts = [f"{n} {what if n != 1 else what.rstrip('s')}"
             for what, n in (("codings", counts.get("codings", 0)),
                             ("reviewed marks", counts.get("reviewed", 0)),
                             ("memos", counts.get("memos", 0))) if n]
    return ", ".join(parts) or "nothing"


def _list(ordinals: list[int], limit: int = 12) -> str:
    text = ", ¶".join(map(str, ordinals[:limit]))
    return text + (f" and {len(ordinals) - limit} more" if len(ordinals) > limit else "")
