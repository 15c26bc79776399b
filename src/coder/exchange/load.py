"""Bring a parsed REFI-QDA project into a study: one transaction, with a report.

Codes are matched by name (case-insensitive) and added when new, under their parent;
text sources become transcripts (segmented as the study's other transcripts are: by
speaker turn when the text has speaker labels, else by paragraph); users become coders;
each PlainTextSelection's codings are attached to every segment the selection overlaps:
as a whole-segment coding where it covers the segment, else with the part of the selection
inside that segment as the span; notes become memos. A transcript the study already has
(the same text, found by its hash or by the GUID coder gave it on export) is reused, so a
study's own export imported again adds nothing. Whatever cannot be brought over is listed
in the report, with the codings it held.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from coder.errors import CoderError, InputError
from coder.exchange import offsets
from coder.exchange.ids import Guids
from coder.exchange.read import Code, Project, Selection, Source
from coder.exchange.write import FOLDER, made_by_coder
from coder.formatting import plural
from coder.store import refi
from coder.store.db import Store
from coder.store.transcripts import SegmentRow

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3}|[0-9a-fA-F]{8})$")
_RGB = re.compile(r"^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")
# A source name's file extension, dropped: `experts-panel.txt` is the transcript `experts-panel`.
_EXTENSION = re.compile(r"\.(txt|text|md|markdown|docx?|odt|rtf|pdf|html?|vtt|srt)$", re.I)
_MARKDOWN = re.compile(r"\.(md|markdown)$", re.I)
# The labels coder's export folds a code's fields into its Description with.
_FOLD = {"Include: ": "include", "Exclude: ": "exclude", "Example: ": "examples"}


@dataclass
class ImportReport:
    """What an import brought over, and what it could not."""

    origin: str = ""
    convention: str = ""
    convention_detected: bool = True
    codes_added: int = 0
    codes_matched: int = 0
    transcripts: list[str] = field(default_factory=list)
    # how each new transcript was cut: name -> (segmentation, segments, speakers)
    cuts: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    transcripts_existing: list[str] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    selections: int = 0
    codings_added: int = 0
    codings_present: int = 0
    selections_lost: int = 0  # selections not brought over (listed in ``skipped``)
    codings_lost: int = 0  # the codings they held, and codings whose code is unknown
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
    positions: offsets.Positions
    existing_id: int | None = None
    skip: int = 0  # stored-text characters before the body (front matter read as metadata)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def mapping(self) -> offsets.Positions:  # with ``limit``: what offsets.convert takes
        return self.positions

    @property
    def limit(self) -> int:
        return self.positions.limit


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


def transcript_name(source: Source) -> str:
    """The transcript a source becomes: its name without a file extension."""
    name = source.name.strip() or source.guid
    return _EXTENSION.sub("", name).strip() or name


def _front_matter(text: str, source: Source, notes: list[str]) -> tuple[dict, int]:
    """A Markdown source's leading YAML block as metadata, and how many characters it takes."""
    from coder.ingest.turns import split_front_matter

    if not (_MARKDOWN.search(source.path) or _MARKDOWN.search(source.name)):
        return {}, 0
    try:
        metadata, body = split_front_matter(text)
    except InputError as exc:
        notes.append(f"text source {source.name!r}: its front matter is kept as text "
                     f"({exc.reason})")
        return {}, 0
    if len(body) == len(text):
        return {}, 0
    notes.append(f"text source {source.name!r}: its front matter became the transcript's "
                 f"metadata ({', '.join(metadata) or 'empty'})")
    return metadata, len(text) - len(body)


def _existing(sha: str, name: str, source: Source, study: list[dict[str, Any]],
              by_guid: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The study's transcript this source is: the one coder exported with this GUID, or one
    with the same text (preferring the same name)."""
    row = by_guid.get(source.guid)
    if row is not None and row["text_sha"] == sha:
        return row
    same = [row for row in study if row["text_sha"] == sha]
    return next((row for row in same if row["name"] == name), same[0] if same else None)


def _cut_as_exported(doc: Any, chosen: str, segments: list[SegmentRow], source: Source,
                     positions: offsets.Positions, skip: int
                     ) -> tuple[str, list[SegmentRow]]:
    """A coder export's selections are its segments or spans inside them: cut the text the
    way that makes the most selections whole segments (``chosen`` on a tie)."""
    from coder.importer import segment_document

    spans = set()
    for sel in source.selections:
        a, b = positions.start(sel.start), positions.end(sel.end)
        if a is not None and b is not None:
            spans.add((a - skip, b - skip))

    def whole(rows: list[SegmentRow]) -> int:
        return len(spans & {(r.start, r.end) for r in rows})

    best = (whole(segments), chosen, segments)
    for other in ("turn", "paragraph", "sentence"):
        if best[0] == len(spans):
            break
        if other == chosen or (other == "turn" and not any(t.speaker for t in doc.turns)):
            continue
        rows = segment_document(doc, other)
        if whole(rows) > best[0]:
            best = (whole(rows), other, rows)
    return best[1], best[2]


def _prepare(store: Store, source: Source, segmentation: str | None, default: str,
             convention: str, nlp_model: str, names: set[str], notes: list[str],
             study: list[dict[str, Any]], by_guid: dict[str, dict[str, Any]],
             from_coder: bool = False) -> _Prepared:
    from coder.importer import segment_document
    from coder.ingest.turns import parse_turn_text
    from coder.nlp import pipeline

    assert source.raw is not None
    whole = offsets.normalise(source.raw)
    metadata, skip = _front_matter(whole, source, notes)
    text = whole[skip:]
    sha = refi.text_sha256(text)
    base = name = transcript_name(source)
    existing = _existing(sha, base, source, study, by_guid)
    positions = offsets.Positions(source.raw, convention)
    if existing is not None:
        if existing["name"] != base:
            notes.append(f"text source {source.name!r}: the same text as the study's "
                         f"transcript {existing['name']!r}, so its codings go there")
        segments = [SegmentRow(r["ordinal"], None, r["start"], r["end"], None, None, "")
                    for r in refi.segment_extents(store, existing["id"])]
        return _Prepared(source, existing["name"], text, sha, "", segments, positions,
                         existing["id"], skip, metadata)
    k = 2
    while refi.transcript_named(store, name) is not None or name in names:
        name, k = f"{base} ({k})", k + 1
    names.add(name)
    if name != base:
        notes.append(f"text source {source.name!r}: the study has another transcript of "
                     f"that name (with other text); imported as {name!r}")
    doc = parse_turn_text(text, name=name, fmt="txt", front_matter=False, keep_text=True)
    chosen = segmentation or default
    if chosen == "turn" and not any(t.speaker for t in doc.turns):
        chosen = "paragraph"
    segments = segment_document(doc, chosen)
    if segmentation is None and from_coder and source.selections:
        chosen, segments = _cut_as_exported(doc, chosen, segments, source, positions, skip)
    analysed = pipeline(nlp_model).analyse(s.text for s in segments)
    for seg, (lemmas, tokens) in zip(segments, analysed, strict=True):
        seg.lemmas, seg.tokens = lemmas, tokens
    return _Prepared(source, name, text, sha, chosen, segments, positions, None, skip,
                     metadata)


def import_project(store: Store, project: Project, *, coder: str, segmentation: str | None,
                   default_segmentation: str, nlp_model: str = "",
                   convention: str | None = None, reviewed: bool = False,
                   study_name: str | None = None) -> ImportReport:
    """Write ``project`` into the study in one transaction; returns the report.

    ``study_name`` (the study's) lets a transcript be found by the GUID coder's export gave it.
    """
    report = ImportReport(origin=project.origin, skipped=list(project.skipped))
    report.selections_lost, report.codings_lost = project.selections_lost, project.codings_lost
    texts = [s for s in project.sources if s.raw is not None]
    for source in project.sources:
        if source.raw is None:
            lost = len(source.selections)
            held = sum(len(x.codings) for x in source.selections)
            report.selections_lost += lost
            report.codings_lost += held
            report.skipped.append(f"text source {source.name!r}: {source.problem}"
                                  + (f" (and its {plural(lost, 'selection')} with "
                                     f"{plural(held, 'coding')})" if lost else ""))
        elif source.problem:
            report.notes.append(f"text source {source.name!r}: {source.problem}")
    if convention is None:
        convention = offsets.detect([(s.raw or "", [(x.start, x.end, x.name)
                                                     for x in s.selections])
                                     for s in texts if s.selections])
    else:
        report.convention_detected = False
    report.convention = convention
    names: set[str] = set()
    prepared: list[_Prepared] = []
    study = [{"id": t["id"], "name": t["name"], "text_sha": refi.text_sha256(t["text"])}
             for t in refi.transcripts_with_text(store)]
    guids = Guids(study_name) if study_name else None
    by_guid = {guids.source(t["text_sha"], t["name"]): t for t in study} if guids else {}
    for source in texts:
        try:
            prepared.append(_prepare(store, source, segmentation, default_segmentation,
                                     convention, nlp_model, names, report.notes, study, by_guid,
                                     made_by_coder(project.origin)))
        except InputError as exc:
            held = sum(len(x.codings) for x in source.selections)
            report.selections_lost += len(source.selections)
            report.codings_lost += held
            report.skipped.append(f"text source {source.name!r}: {exc.reason} "
                                  f"({plural(held, 'coding')} lost)")
    with store.transaction("import-qdpx"):
        code_ids = _codes(store, project, report)
        writer = _Writer(store, project, report, coder, code_ids)
        writer.write(prepared)
        if project.media:
            from coder.exchange.media import link_imported

            link_imported(store, store.path.parent, project, writer.transcript_ids,
                          {p.source.guid: functools.partial(offsets.convert, p.mapping, p.limit)
                           for p in prepared}, report)
        if reviewed:
            writer.mark_reviewed()
    return report


def unfold(description: str) -> dict[str, Any]:
    """Undo coder's Description fold: the definition, then ``Include:``, ``Exclude:`` and
    ``Example:`` paragraphs back into their fields (a paragraph without a label continues
    the field before it)."""
    fields: dict[str, Any] = {"definition": [], "include": [], "exclude": [], "examples": []}
    current: list[str] = fields["definition"]
    paragraphs = description.split("\n\n")
    is_folder = paragraphs[-1] == FOLDER
    for paragraph in paragraphs[:-1] if is_folder else paragraphs:
        label = next((k for k in _FOLD if paragraph.startswith(k)), None)
        if label is None:
            current.append(paragraph)
        elif _FOLD[label] == "examples":
            fields["examples"].append([paragraph[len(label):]])
            current = fields["examples"][-1]
        else:
            current = fields[_FOLD[label]]
            current.append(paragraph[len(label):])
    out: dict[str, Any] = {k: "\n\n".join(v).strip() for k, v in fields.items()
                           if k != "examples"}
    out["examples"] = ["\n\n".join(e).strip() for e in fields["examples"]]
    out["folder"] = is_folder
    return out


def _code_fields(code: Code, from_coder: bool) -> dict[str, Any]:
    """What the study keeps of a file's code: coder's own files unfold the Description and
    make a non-codable code with children an exclusive group (unless marked a folder);
    other tools' descriptions are definitions, and their non-codable codes folders."""
    if not from_coder:
        return {"definition": code.description, "codable": code.codable, "exclusive": False}
    fields = unfold(code.description)
    is_folder = fields.pop("folder")
    fields["exclusive"] = not code.codable and code.has_children and not is_folder
    fields["codable"] = code.codable
    return fields


def _codes(store: Store, project: Project, report: ImportReport) -> dict[str, int]:
    """Code GUID -> code id: the study's code of that name, or a new one. A GUID that
    several codes share maps to none of them (the codings naming it are listed as lost)."""
    from_coder = made_by_coder(project.origin)
    ids: dict[int, int] = {}  # index in project.codes -> code id
    names: dict[int, str] = {}
    folders: list[str] = []
    for index, code in enumerate(project.codes):
        if not code.name:
            report.skipped.append(f"a code without a name ({code.guid})")
            continue
        parent = names.get(code.parent_index) if code.parent_index is not None else None
        parent_id = ids.get(code.parent_index) if code.parent_index is not None else None
        row = refi.code_named(store, code.name)
        name = code.name
        if row is not None and row["id"] not in ids.values():
            ids[index], names[index] = row["id"], code.name
            report.codes_matched += 1
            if row["parent_id"] != parent_id:
                report.notes.append(f"code {code.name!r}: matched the study's code of that "
                                      "name, which stays where it is in the tree")
            continue
        if row is not None:  # a second code of this name in the file
            k, name = 2, f"{code.name} ({parent})" if parent else f"{code.name} (2)"
            while refi.code_named(store, name) is not None:
                k += 1
                name = f"{code.name} ({k})"
            report.notes.append(f"code {code.name!r} appears more than once; this one "
                                  f"(under {parent or 'the top'}) is imported as {name!r}")
        color = colour(code.color)
        if code.color and color is None:
            report.notes.append(f"code {code.name!r}: colour {code.color!r} not understood")
        fields = _code_fields(code, from_coder)
        if not code.codable and not fields["exclusive"]:
            folders.append(name)
        ids[index] = refi.add_imported_code(store, name, parent_id=parent_id, color=color,
                                            **fields)
        names[index] = name
        report.codes_added += 1
    if folders:
        shown = ", ".join(repr(n) for n in folders[:5])
        more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
        report.notes.append(f"{plural(len(folders), 'code')} not codable in the file (folders: "
                            f"{shown}{more}): imported as folders for their child codes, "
                            "not applied themselves")
    for guid, shared in project.shared_guids.items():
        report.notes.append(f"codes {', '.join(repr(n) for n in shared)} share the GUID {guid}: "
                            "codings that name it are not imported (they would be ambiguous)")
    return {project.codes[i].guid: code_id for i, code_id in ids.items()
            if project.codes[i].guid not in project.shared_guids}


class _Writer:
    """Writes transcripts, codings, memos and attributes inside the import's transaction."""

    def __init__(self, store: Store, project: Project, report: ImportReport, coder: str,
                 code_ids: dict[str, int]):
        self.store, self.project, self.report = store, project, report
        self.coder, self.code_ids = coder, code_ids
        self.memos: dict[tuple[str, int | None, str], list[str]] = {}
        self.memo_times: dict[tuple[str, int | None, str], list[tuple[str, str]]] = {}
        self.used_notes: set[str] = set()
        self.coders: set[str] = set()
        self.coded: dict[int, set[str]] = {}  # transcript id -> coders with codings in it
        self.transcript_ids: dict[str, int] = {}  # text source guid -> transcript id

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
                note = self.project.notes[guid]
                if note.created:
                    self.memo_times.setdefault((kind, target, coder), []).append(
                        (note.created, note.modified or note.created))

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
                    metadata={**item.metadata, **item.source.variables},
                    text=item.text, segments=item.segments)
                refi.keep_times(self.store, transcript=tid, created=item.source.created)
                self.report.transcripts.append(item.name)
                self.report.cuts[item.name] = (item.segmentation, len(item.segments),
                                               len({s.speaker for s in item.segments
                                                    if s.speaker}))
            else:
                tid = item.existing_id
                self.report.transcripts_existing.append(item.name)
            self.transcript_ids[item.source.guid] = tid
            segments = refi.segment_extents(self.store, tid)
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

    def _lose(self, where: str, reason: str, codings: int) -> None:
        self.report.selections_lost += 1
        self.report.codings_lost += codings
        self.report.skipped.append(f"selection {where}: {reason} ({plural(codings, 'coding')} "
                                   "lost)")

    def _selection(self, item: _Prepared, sel: Selection, segments: list[dict],
                   tid: int) -> None:
        """Code every segment the selection overlaps: a segment it covers as a whole, else
        the part of the selection inside the segment as a span."""
        from coder.store.codings import apply_coding

        where = f"{item.name!r} [{sel.start}, {sel.end})"
        a, b = item.positions.start(sel.start), item.positions.end(sel.end)
        if a is None or b is None:
            return self._lose(where, "outside the text", len(sel.codings))
        if b <= item.skip:
            return self._lose(where, "in the front matter (now the transcript's metadata)",
                              len(sel.codings))
        a, b = max(a - item.skip, 0), b - item.skip
        if b <= a:
            return self._lose(where, "empty", len(sel.codings))
        hit = [s for s in segments if s["start"] < b and s["end"] > a]
        if not hit:
            return self._lose(where, "outside every segment (between them: blank lines or "
                              "speaker labels)", len(sel.codings))
        self.report.selections += 1
        user = sel.user
        if sel.description:
            self.memos.setdefault(("segment", hit[0]["id"], self.who(user)), []).append(
                sel.description)
        self.memo("segment", hit[0]["id"], sel.notes, user)
        for code_guid, coding_user, notes, created in sel.codings:
            code_id = self.code_ids.get(code_guid)
            if code_id is None:
                why = (f"several codes share its code's GUID {code_guid}"
                       if code_guid in self.project.shared_guids
                       else f"no code {code_guid} in the file")
                self.report.codings_lost += 1
                self.report.skipped.append(f"a coding in {where}: {why}")
                continue
            coder = self.who(coding_user or user)
            self.coded.setdefault(tid, set()).add(coder)
            texts = [t for g in notes if (t := self.note_text(g))]
            memo = "\n\n".join(t[0] for t in texts) or None
            for seg in hit:
                whole = a <= seg["start"] and b >= seg["end"]
                span = None if whole else (max(a, seg["start"]), min(b, seg["end"]))
                try:
                    added = apply_coding(self.store, seg["id"], code_id, coder=coder,
                                         origin="import", memo=memo, span=span)
                except CoderError as exc:
                    self.report.codings_lost += 1
                    self.report.skipped.append(f"a coding in {where}: {exc.reason}")
                    break
                if added:
                    refi.keep_times(self.store, coding={
                        "segment": seg["id"], "code": code_id, "coder": coder,
                        "start": span[0] if span else None, "end": span[1] if span else None},
                        created=created)
                    self.report.codings_added += 1
                else:
                    self.report.codings_present += 1

    def mark_reviewed(self) -> None:
        """Every segment of a transcript reviewed by each coder who coded in it."""
        from coder.store.codings import mark_reviewed

        for tid, coders in self.coded.items():
            ids = [r["id"] for r in refi.segment_extents(self.store, tid)]
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
            done = set_memo(self.store, kind, target, coder, text)
            times = self.memo_times.get((kind, target, coder), [])
            if done == "added" and len(times) == len(texts) == 1:
                refi.keep_times(self.store, memo={"kind": kind, "target": target,
                                                  "coder": coder},
                                created=times[0][0], updated=times[0][1])
            if done != "unchanged":
                self.report.memos += 1

    def _cases(self) -> None:
        from coder.store.transcripts import set_speaker_attributes

        speakers = refi.speaker_names(self.store)
        matched = {n: v for n, v in self.project.cases.items() if n in speakers and v}
        unmatched = [n for n, v in self.project.cases.items() if n not in speakers and v]
        if matched:
            self.report.speaker_attributes = set_speaker_attributes(self.store, matched)
        if unmatched:
            shown = ", ".join(repr(n) for n in unmatched[:5])
            more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
            self.report.skipped.append(f"cases without a speaker of that name (their variables "
                                       f"are not imported): {shown}{more}")
