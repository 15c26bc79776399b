"""Export a study as a REFI-QDA codebook (.qdc) or project (.qdpx).

Offsets in ``startPosition``/``endPosition`` are Unicode code points into the exported
``sources/<guid>.txt`` (the transcript's stored text), as the standard says. The output is
byte-for-byte the same for the same study (stable GUIDs, fixed zip dates).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.exchange.collect import StudyData, collect, collect_codes
from coder.exchange.ids import Guids
from coder.exchange.offsets import to_units
from coder.exchange.xml_text import SafeMaker
from coder.files import write_atomic
from coder.store.db import Store

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
ORIGIN = "coder"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def made_by_coder(origin: str) -> bool:
    """Whether a REFI-QDA file's ``origin`` says coder wrote it."""
    return origin.split(" ")[0] == ORIGIN


@dataclass
class ExportSummary:
    codes: int = 0
    sources: int = 0
    selections: int = 0
    codings: int = 0
    users: int = 0
    cases: int = 0
    notes: int = 0
    replaced: int = 0  # characters XML cannot hold, written as U+FFFD


# The paragraph that tells a folder (not codable, children not exclusive) from an exclusive
# group, which both are isCodable="false".
FOLDER = "Not codable: a folder for its child codes."


def folder(code: dict[str, Any]) -> bool:
    """A code nobody applies that is not an exclusive group."""
    return not code.get("codable", True) and not code.get("exclusive")


def describe(code: dict[str, Any]) -> str:
    """A code's Description: its definition, then include/exclude/examples as labelled lines
    (and a folder's mark)."""
    parts = [code.get("definition") or ""]
    for label, key in (("Include", "include"), ("Exclude", "exclude")):
        if code.get(key):
            parts.append(f"{label}: {code[key]}")
    for example in code.get("examples") or []:
        parts.append(f"Example: {example}")
    if folder(code):
        parts.append(FOLDER)
    return "\n\n".join(p for p in parts if p).strip()


def taguette_csv(codes: list[dict[str, Any]]) -> str:
    """The codebook as Taguette's codebook import reads CSV: exactly one of the columns
    ``tag``/``name``/``path`` (here ``tag``), plus ``description`` (and ``parent``, which
    newer Taguette reads and older ignores)."""
    import csv
    import io

    from coder.codings_tables import safe_cell

    names = {c["id"]: c["name"] for c in codes}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tag", "description", "parent"])
    for code in codes:
        writer.writerow([safe_cell(code["name"]), safe_cell(describe(code)),
                         safe_cell(names.get(code["parent_id"], ""))])
    return buffer.getvalue()


def _codes_xml(maker: Any, codes: list[dict[str, Any]], guids: Guids,
               note_refs: dict[int, list[str]] | None = None) -> Any:
    """``<Codes>`` with the tree nested as in the codebook."""
    nodes: dict[int | None, Any] = {None: maker.Codes()}
    for code in codes:  # parents come before their children
        attrs = {"guid": guids.code(code["name"]), "name": code["name"],
                 "isCodable": "false" if code["exclusive"] or folder(code) else "true"}
        if code.get("color"):
            attrs["color"] = code["color"]
        element = maker.Code(**attrs)
        text = describe(code)
        if text:
            element.append(maker.Description(text))
        for target in (note_refs or {}).get(code["id"], []):
            element.append(maker.NoteRef(targetGUID=target))
        nodes[code["parent_id"]].append(element)
        nodes[code["id"]] = element
    return nodes[None]


def codebook_xml(store: Store, study_name: str) -> tuple[bytes, int]:
    """The study's codebook as a QDA-XML ``CodeBook`` document, and how many characters XML
    cannot hold it replaced with U+FFFD."""
    from lxml import etree
    from lxml.builder import ElementMaker

    codes = collect_codes(store)
    if not codes:
        raise CoderError("the study has no codes to export: load a codebook first")
    maker = SafeMaker(ElementMaker(namespace=CODEBOOK_NS, nsmap={None: CODEBOOK_NS}))
    root = maker.CodeBook(_codes_xml(maker, codes, Guids(study_name)), origin=ORIGIN)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8",
                          pretty_print=True), maker.replaced


class _Project:
    """Builds the ``Project`` element from :class:`StudyData`."""

    def __init__(self, data: StudyData, study_name: str, coder: str,
                 offsets: str = "codepoints", one_per_selection: bool = False,
                 line_names: bool = False):
        from lxml.builder import ElementMaker

        self.data, self.name, self.coder = data, study_name, coder
        self.offsets = offsets
        self.utf16 = offsets == "utf16"
        self.one_per_selection = one_per_selection
        self.line_names = line_names
        self.guids = Guids(study_name)
        self.E = SafeMaker(ElementMaker(namespace=PROJECT_NS, nsmap={None: PROJECT_NS}))
        self.summary = ExportSummary()
        self.source_guid = {t["id"]: self.guids.source(_sha(t["text"]), t["name"])
                            for t in data.transcripts}
        self.code_name = {c["id"]: c["name"] for c in data.codes}
        self.segments: dict[int, dict[int, dict[str, Any]]] = {}
        for seg_id, seg in data.segments.items():
            self.segments.setdefault(seg["transcript_id"], {})[seg_id] = seg
        self.codings: dict[int, list[dict[str, Any]]] = {}
        for coding in data.codings:
            tid = data.segments[coding["segment_id"]]["transcript_id"]
            self.codings.setdefault(tid, []).append(coding)
        self.notes: list[Any] = []
        # memo targets -> note GUIDs
        self.refs: dict[tuple[str, Any], list[str]] = {}

    def user(self, name: str) -> str:
        return self.guids.user(name)

    def build(self) -> Any:
        E, data = self.E, self.data
        self._memos()
        root = E.Project(name=self.name, origin=ORIGIN, creatingUserGUID=self.user(self.coder))
        root.append(E.Users(*[E.User(guid=self.user(c), name=c) for c in data.coders]))
        self.summary.users = len(data.coders)
        if data.codes:
            code_refs = {k[1]: v for k, v in self.refs.items() if k[0] == "code"}
            root.append(E.CodeBook(_codes_xml(E, data.codes, self.guids, code_refs)))
            self.summary.codes = len(data.codes)
        variables = sorted({k for attrs in data.speakers.values() for k in attrs}
                           | {k for t in data.transcripts for k, v in t["metadata"].items()
                              if _scalar(v)})
        if variables:
            root.append(E.Variables(*[E.Variable(guid=self.guids.of("variable", v), name=v,
                                                 typeOfVariable="Text") for v in variables]))
        if data.speakers:
            root.append(E.Cases(*[self._case(n, a) for n, a in data.speakers.items()]))
            self.summary.cases = len(data.speakers)
        if data.transcripts:
            from coder.exchange.media import media_sources

            position = _utf16_positions if self.utf16 else None
            root.append(E.Sources(*[self._source(t) for t in data.transcripts],
                                  *media_sources(E, self.guids, data, self.source_guid,
                                                 position)))
            self.summary.sources = len(data.transcripts)
        if self.notes:
            root.append(E.Notes(*self.notes))
            self.summary.notes = len(self.notes)
        for target in self.refs.get(("study", None), []):
            root.append(E.NoteRef(targetGUID=target))
        self.summary.replaced = self.E.replaced
        return root

    def _value(self, key: str, value: Any) -> Any:
        import json

        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return self.E.VariableValue(self.E.VariableRef(targetGUID=self.guids.of("variable", key)),
                                    self.E.TextValue(text))

    def _case(self, name: str, attributes: dict[str, str]) -> Any:
        return self.E.Case(*[self._value(k, v) for k, v in attributes.items()],
                           guid=self.guids.of("case", name), name=name)

    def _memos(self) -> None:
        for memo in self.data.memos:
            guid = self.guids.of("note", memo["kind"], memo["target"], memo["coder"])
            self._note(guid, f"Memo on {memo['target']}", memo["text"], memo["coder"],
                       memo["created_at"], memo["updated_at"])
            self.refs.setdefault((memo["kind"], memo["target_id"]), []).append(guid)

    def _note(self, guid: str, name: str, text: str, coder: str, created: str,
              modified: str | None = None) -> None:
        E = self.E
        note = E.Note(E.PlainTextContent(text), guid=guid, name=name,
                      creatingUser=self.user(coder), creationDateTime=created)
        if modified:
            note.set("modifiedDateTime", modified)
        self.notes.append(note)

    def _source(self, transcript: dict[str, Any]) -> Any:
        E, guid = self.E, self.source_guid[transcript["id"]]
        source = E.TextSource(guid=guid, name=transcript["name"],
                              plainTextPath=f"internal://{guid}.txt",
                              creationDateTime=transcript["imported_at"])
        for selection in self._selections(transcript):
            source.append(selection)
        for target in self.refs.get(("transcript", transcript["id"]), []):
            source.append(E.NoteRef(targetGUID=target))
        for key, value in sorted(transcript["metadata"].items()):
            if _scalar(value):
                source.append(self._value(key, value))
        return source

    def _selections(self, transcript: dict[str, Any]) -> list[Any]:
        """One selection per span and coder, holding that coder's codings of the span."""
        E, text = self.E, transcript["text"]
        groups: dict[tuple[int, int, str], dict[str, Any]] = {}
        segments = self.segments.get(transcript["id"], {})
        for coding in self.codings.get(transcript["id"], []):
            seg = segments[coding["segment_id"]]
            span = ((coding["span_start"], coding["span_end"])
                    if coding["span_start"] is not None else (seg["start"], seg["end"]))
            group = groups.setdefault((*span, coding["coder"]), {"codings": {}, "notes": [],
                                                                 "created": coding["created_at"]})
            group["codings"].setdefault(coding["code_id"], coding)
        for memo in self.data.memos:
            target = segments.get(memo["target_id"]) if memo["kind"] == "segment" else None
            if target is not None:
                group = groups.setdefault((target["start"], target["end"], memo["coder"]), {
                    "codings": {}, "notes": [], "created": memo["created_at"]})
                group["notes"].append(self.guids.of("note", "segment", memo["target"],
                                                    memo["coder"]))
        out = []
        position = to_units(text, self.offsets)
        for (start, end, coder), group in sorted(groups.items()):
            codings = list(group["codings"].items())
            self.summary.codings += len(codings)
            # NVivo writes one coding per selection, and some readers take only the first
            parts = [[c] for c in codings] if self.one_per_selection and codings else [codings]
            pieces = _lines(text, start, end) if self.line_names else [(start, end, None)]
            for k, (first, part, (a, b, line)) in enumerate(
                    (n == 0, part, piece) for n, piece in enumerate(pieces) for part in parts):
                identity: tuple[Any, ...] = (self.source_guid[transcript["id"]], coder, start,
                                             end)
                if self.one_per_selection and part:
                    identity += (self.guids.code(self.code_name[part[0][0]]),)
                if line is not None:
                    identity += (line,)
                sel_guid = self.guids.of("selection", *identity)
                selection = E.PlainTextSelection(
                    guid=sel_guid, name=_excerpt(text[a:b]) if line is None else f"line:{line}",
                    startPosition=str(position(a)), endPosition=str(position(b)),
                    creatingUser=self.user(coder), creationDateTime=group["created"])
                for code_id, coding in part:
                    selection.append(self._coding(sel_guid, code_id, coding, coder,
                                                  transcript["name"], first))
                if k == 0:
                    for note in dict.fromkeys(group["notes"]):
                        selection.append(E.NoteRef(targetGUID=note))
                out.append(selection)
                self.summary.selections += 1
        return out

    def _coding(self, sel_guid: str, code_id: int, coding: dict[str, Any], coder: str,
                transcript: str, memo: bool = True) -> Any:
        """One ``<Coding>`` of a selection, with its memo as a Note (unless not ``memo``)."""
        E = self.E
        code_guid = self.guids.code(self.code_name[code_id])
        element = E.Coding(E.CodeRef(targetGUID=code_guid),
                           guid=self.guids.of("coding", sel_guid, code_guid),
                           creatingUser=self.user(coder), creationDateTime=coding["created_at"])
        if coding["memo"] and memo:
            note = self.guids.of("note", "coding", sel_guid, code_guid)
            self._note(note, f"Memo on {self.code_name[code_id]!r} in {transcript}",
                       coding["memo"], coder, coding["created_at"])
            element.append(E.NoteRef(targetGUID=note))
        return element


def _utf16_positions(text: str) -> Any:
    """A function from an index into ``text`` to its UTF-16 offset (for media selections)."""
    return to_units(text, "utf16")


def _lines(text: str, start: int, end: int) -> list[tuple[int, int, int | None]]:
    """``[start, end)`` cut at line ends into its non-blank pieces, each with its 0-based line
    number (as qualitative-coding numbers a file's lines)."""
    line = text.count("\n", 0, start)
    pieces: list[tuple[int, int, int | None]] = []
    a = start
    while a < end:
        stop = text.find("\n", a, end)
        b = end if stop < 0 else stop
        if text[a:b].strip():
            pieces.append((a, b, line))
        a, line = b + 1, line + 1
    return pieces or [(start, end, text.count("\n", 0, start))]


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _scalar(value: Any) -> bool:
    return value not in (None, "", [], {})


def _excerpt(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def project_files(store: Store, study_name: str, coder: str, offsets: str = "codepoints",
                  one_per_selection: bool = False, line_names: bool = False
                  ) -> tuple[bytes, dict[str, bytes], ExportSummary]:
    """``project.qde`` bytes, the source files (``sources/<guid>.txt``) and a summary."""
    from lxml import etree

    builder = _Project(collect(store, coder), study_name, coder, offsets, one_per_selection,
                       line_names)
    root = builder.build()
    qde = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    files = {f"sources/{builder.source_guid[t['id']]}.txt": t["text"].encode("utf-8")
             for t in builder.data.transcripts}
    return qde, files, builder.summary


def export_qdc(store: Store, study_name: str, path: Path) -> ExportSummary:
    """Write the codebook to ``path``; the summary counts its codes and the characters
    XML cannot hold that were written as U+FFFD."""
    data, replaced = codebook_xml(store, study_name)
    write_atomic(path, lambda tmp: tmp.write_bytes(data))
    return ExportSummary(codes=len(collect_codes(store)), replaced=replaced)


def export_qdpx(store: Store, study_name: str, coder: str, path: Path,
                offsets: str = "codepoints", one_per_selection: bool = False,
                line_names: bool = False) -> ExportSummary:
    """Write the whole study to ``path`` as a .qdpx archive (``one_per_selection``: a
    selection for each coding, as NVivo writes, for readers that take only the first;
    ``line_names``: a selection per line named ``line:N``, as qualitative-coding reads)."""
    qde, files, summary = project_files(store, study_name, coder, offsets, one_per_selection,
                                        line_names)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in [("project.qde", qde), *sorted(files.items())]:
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)

    write_atomic(path, write)
    return summary
