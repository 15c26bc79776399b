"""Bring a parsed REFI-QDA project into a study: one transaction, with a report.

Codes are matched by name (case-insensitive) and added when new, under their parent;
text sources become transcripts (segmented as the study's other transcripts are: by
speaker turn when the text has speaker labels, else by paragraph); users become coders;
each PlainTextSelection's codings are attached to every segment the selection overlaps,
keeping the selection's exact span; notes become memos. Whatever cannot be brought over
is listed in the report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from coder.errors import CoderError, InputError
from coder.exchange import offsets
from coder.exchange.read import Project, Selection, Source
from coder.store.db import Store
from coder.store.transcripts import SegmentRow

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3}|[0-9a-fA-F]{8})$")
_RGB = re.compile(r"^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")


@dataclass
class ImportReport:
    """What an import brought over, and what it could not."""

    origin: str = ""
    convention: str = ""
    convention_detected: bool = True
    codes_added: int = 0
    codes_matched: int = 0
    transcripts: list[str] = field(default_factory=list)
    transcripts_existing: list[str] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    selections: int = 0
    codings_added: int = 0
    codings_present: int = 0
    memos: int = 0
    speaker_attributes: int = 0
    reviewed: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # brought over, but changed


@dataclass
class _Prepared:
    source: Source
    name: str
    text: str
    sha256: str
    segmentation: str
    segments: list[SegmentRow]
    mapping: Any
    limit: int
    existing_id: int | None = None


def colour(value: str | None) -> str | None:
    """A colour as ``#rrggbb`` from ``#RGB``, ``#RRGGBB``, ``#AARRGGBB``, ``rgb()`` or an
    integer; None when it is not one."""
    if not value:
        return None
    value = value.strip()
    m = _HEX.match(value)
    if m:
        digits = m.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return "#" + digits[-6:].lower()
    m = _RGB.match(value)
    if m and all(int(g) < 256 for g in m.groups()):
        return "#" + "".join(f"{int(g):02x}" for g in m.groups())
    if value.isdigit() and int(value) < 2**24:
        return f"#{int(value):06x}"
    return None


def _prepare(store: Store, source: Source, segmentation: str | None, default: str,
             convention: str, nlp_model: str, names: set[str], notes: list[str]) -> _Prepared:
    from coder.importer import segment_document
    from coder.ingest.turns import parse_turn_text
    from coder.nlp import pipeline

    assert source.raw is not None
    text = offsets.normalise(source.raw)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    base = name = source.name.strip() or source.guid
    existing_id, k = None, 2
    while True:  # the first free name, unless a transcript of this name has this text
        row = store.one("SELECT id, sha256 FROM transcripts WHERE name = ?", (name,))
        if row is not None and row["sha256"] == sha:
            existing_id = row["id"]
            break
        if row is None and name not in names:
            break
        name, k = f"{base} ({k})", k + 1
    names.add(name)
    if name != base and existing_id is None:
        notes.append(f"text source {source.name!r}: the study has another transcript of "
                     f"that name; imported as {name!r}")
    doc = parse_turn_text(text, name=name, fmt="txt", front_matter=False)
    chosen = segmentation or default
    if chosen == "turn" and not any(t.speaker for t in doc.turns):
        chosen = "paragraph"
    segments = segment_document(doc, chosen)
    if existing_id is not None:
        segments = [SegmentRow(r["ordinal"], None, r["start"], r["end"], None, None, "")
                    for r in store.rows("SELECT ordinal, start, end FROM segments WHERE "
                                        "transcript_id = ? ORDER BY ordinal", (existing_id,))]
    else:
        analysed = pipeline(nlp_model).analyse(s.text for s in segments)
        for seg, (lemmas, tokens) in zip(segments, analysed, strict=True):
            seg.lemmas, seg.tokens = lemmas, tokens
    return _Prepared(source, name, text, sha, chosen, segments,
                     offsets.position_map(source.raw, convention),
                     offsets.units(source.raw, convention), existing_id)


def import_project(store: Store, project: Project, *, coder: str, segmentation: str | None,
                   default_segmentation: str, nlp_model: str = "",
                   convention: str | None = None, reviewed: bool = False) -> ImportReport:
    """Write ``project`` into the study in one transaction; returns the report."""
    report = ImportReport(origin=project.origin, skipped=list(project.skipped))
    texts = [s for s in project.sources if s.raw is not None]
    for source in project.sources:
        if source.raw is None:
            lost = len(source.selections)
            report.skipped.append(f"text source {source.name!r}: {source.problem}"
                                  + (f" (and its {lost} selection{'s' * (lost != 1)})"
                                     if lost else ""))
        elif source.problem:
            report.notes.append(f"text source {source.name!r}: {source.problem}")
    if convention is None:
        convention = offsets.detect([(s.raw, [(x.start, x.end, x.name) for x in s.selections])
                                     for s in texts if s.selections])
    else:
        report.convention_detected = False
    report.convention = convention
    names: set[str] = set()
    prepared: list[_Prepared] = []
    for source in texts:
        try:
            prepared.append(_prepare(store, source, segmentation, default_segmentation,
                                     convention, nlp_model, names, report.notes))
        except InputError as exc:
            report.skipped.append(f"text source {source.name!r}: {exc.reason}")
    with store.transaction("import-qdpx"):
        code_ids = _codes(store, project, report)
        writer = _Writer(store, project, report, coder, code_ids)
        writer.write(prepared)
        if reviewed:
            writer.mark_reviewed()
    return report


def _codes(store: Store, project: Project, report: ImportReport) -> dict[str, int]:
    """Code GUID -> code id: the study's code of that name, or a new one."""
    from coder.store.codes import add_code

    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    for code in project.codes:
        if not code.name:
            report.skipped.append(f"a code without a name ({code.guid})")
            continue
        parent = names.get(code.parent) if code.parent else None
        parent_id = ids.get(code.parent) if code.parent else None
        row = store.one("SELECT id, parent_id FROM codes WHERE name = ? COLLATE NOCASE",
                        (code.name,))
        name = code.name
        if row is not None and row["id"] not in ids.values():
            ids[code.guid], names[code.guid] = row["id"], code.name
            report.codes_matched += 1
            if row["parent_id"] != parent_id:
                report.notes.append(f"code {code.name!r}: matched the study's code of that "
                                      "name, which stays where it is in the tree")
            continue
        if row is not None:  # a second code of this name in the file
            k, name = 2, f"{code.name} ({parent})" if parent else f"{code.name} (2)"
            while store.one("SELECT 1 FROM codes WHERE name = ? COLLATE NOCASE", (name,)):
                k += 1
                name = f"{code.name} ({k})"
            report.notes.append(f"code {code.name!r} appears more than once; this one "
                                  f"(under {parent or 'the top'}) is imported as {name!r}")
        color = colour(code.color)
        if code.color and color is None:
            report.notes.append(f"code {code.name!r}: colour {code.color!r} not understood")
        ids[code.guid] = add_code(store, name, parent=parent, definition=code.description,
                                  color=color)
        names[code.guid] = name
        report.codes_added += 1
    return ids


class _Writer:
    """Writes transcripts, codings, memos and attributes inside the import's transaction."""

    def __init__(self, store: Store, project: Project, report: ImportReport, coder: str,
                 code_ids: dict[str, int]):
        self.store, self.project, self.report = store, project, report
        self.coder, self.code_ids = coder, code_ids
        self.memos: dict[tuple[str, int | None, str], list[str]] = {}
        self.used_notes: set[str] = set()
        self.coders: set[str] = set()
        self.coded: dict[int, set[str]] = {}  # transcript id -> coders with codings in it

    def who(self, guid: str | None) -> str:
        name = self.project.users.get(guid or "") or self.coder
        if name not in self.coders:
            from coder.formatting import check_name

            try:
                check_name(name, "a user (coder) name")
            except CoderError as exc:
                raise InputError(exc.reason, path=self.project.path) from None
        self.coders.add(name)
        return name

    def note_text(self, guid: str) -> tuple[str, str | None] | None:
        note = self.project.notes.get(guid)
        if note is None:
            return None
        self.used_notes.add(guid)
        text = note.text
        if note.name and not note.name.startswith("Memo on ") and note.name not in text:
            text = f"{note.name}\n\n{text}" if text else note.name
        return (text, note.user) if text else None

    def memo(self, kind: str, target: int | None, guids: list[str], user: str | None) -> None:
        for guid in guids:
            found = self.note_text(guid)
            if found:
                coder = self.who(found[1] or user)
                self.memos.setdefault((kind, target, coder), []).append(found[0])

    def write(self, prepared: list[_Prepared]) -> None:
        from coder.store.transcripts import insert_transcript

        for code_guid, notes in self.project.code_notes.items():
            if code_guid in self.code_ids:
                self.memo("code", self.code_ids[code_guid], notes, None)
        for item in prepared:
            if item.existing_id is None:
                tid = insert_transcript(
                    self.store, name=item.name, source_path=self.project.path,
                    sha256=item.sha256, fmt="txt", segmentation=item.segmentation,
                    metadata=dict(item.source.variables),
                    text=item.text, segments=item.segments)
                self.report.transcripts.append(item.name)
            else:
                tid = item.existing_id
                self.report.transcripts_existing.append(item.name)
            segments = self.store.rows("SELECT id, start, end FROM segments WHERE "
                                       "transcript_id = ? ORDER BY start", (tid,))
            self.memo("transcript", tid, item.source.notes, None)
            for selection in item.source.selections:
                self._selection(item, selection, segments, tid)
        for guid in self.project.project_notes:
            self.memo("study", None, [guid], None)
        for guid in self.project.notes:
            if guid not in self.used_notes:
                self.memo("study", None, [guid], None)
        self._write_memos()
        self._cases()
        self.report.coders = sorted(self.coders)

    def _selection(self, item: _Prepared, sel: Selection, segments: list[dict],
                   tid: int) -> None:
        from coder.store.codings import apply_coding

        where = f"{item.name!r} [{sel.start}, {sel.end})"
        a = offsets.convert(item.mapping, item.limit, sel.start)
        b = offsets.convert(item.mapping, item.limit, sel.end)
        if a is None or b is None:
            self.report.skipped.append(f"selection {where}: outside the text")
            return
        if b <= a:
            self.report.skipped.append(f"selection {where}: empty")
            return
        hit = [s for s in segments if s["start"] < b and s["end"] > a]
        if not hit:
            self.report.skipped.append(f"selection {where}: outside every segment")
            return
        self.report.selections += 1
        user = sel.user
        if sel.description:
            self.memos.setdefault(("segment", hit[0]["id"], self.who(user)), []).append(
                sel.description)
        self.memo("segment", hit[0]["id"], sel.notes, user)
        for code_guid, coding_user, notes in sel.codings:
            code_id = self.code_ids.get(code_guid)
            if code_id is None:
                self.report.skipped.append(f"a coding in {where}: no code {code_guid}")
                continue
            coder = self.who(coding_user or user)
            self.coded.setdefault(tid, set()).add(coder)
            texts = [t for g in notes if (t := self.note_text(g))]
            memo = "\n\n".join(t[0] for t in texts) or None
            for seg in hit:
                try:
                    added = apply_coding(self.store, seg["id"], code_id, coder=coder,
                                         origin="import", memo=memo, span=(a, b))
                except CoderError as exc:
                    self.report.skipped.append(f"a coding in {where}: {exc.reason}")
                    break
                if added:
                    self.report.codings_added += 1
                else:
                    self.report.codings_present += 1

    def mark_reviewed(self) -> None:
        """Every segment of a transcript reviewed by each coder who coded in it."""
        from coder.store.codings import mark_reviewed

        for tid, coders in self.coded.items():
            ids = [r["id"] for r in self.store.rows(
                "SELECT id FROM segments WHERE transcript_id = ?", (tid,))]
            for coder in sorted(coders):
                self.report.reviewed += mark_reviewed(self.store, ids, coder=coder)

    def _write_memos(self) -> None:
        from coder.store.memos import get_memo, set_memo

        for (kind, target, coder), texts in self.memos.items():
            text = "\n\n".join(dict.fromkeys(t.strip() for t in texts if t.strip()))
            old = get_memo(self.store, kind, target, coder)
            if old is not None:
                if text in old["text"]:
                    continue
                text = f"{old['text']}\n\n{text}"
            if set_memo(self.store, kind, target, coder, text) != "unchanged":
                self.report.memos += 1

    def _cases(self) -> None:
        from coder.store.transcripts import set_speaker_attributes

        speakers = {r["name"] for r in self.store.rows("SELECT name FROM speakers")}
        matched = {n: v for n, v in self.project.cases.items() if n in speakers and v}
        unmatched = [n for n, v in self.project.cases.items() if n not in speakers and v]
        if matched:
            self.report.speaker_attributes = set_speaker_attributes(self.store, matched)
        if unmatched:
            shown = ", ".join(repr(n) for n in unmatched[:5])
            more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
            self.report.skipped.append(f"cases without a speaker of that name (their variables "
                                       f"are not imported): {shown}{more}")
