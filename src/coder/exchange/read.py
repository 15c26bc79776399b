"""Read REFI-QDA files safely into plain data: what other tools actually write.

Untrusted input: XML is parsed by lxml with no DTD loading, no entity resolution, no
network and no huge trees, and a document with a DOCTYPE is refused outright; archives
are checked for bombs and unsafe member names before anything is read. Namespaces are
ignored (old ``codebook:0:4``, ``1:0``, or none); GUIDs are compared lower-case without
braces; ``Sources/`` and ``sources/`` both work, as do a ``.qde`` with any name and a
``plainTextPath`` without ``internal://``.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from coder.errors import InputError
from coder.exchange.ids import normalise_guid as gid
from coder.formatting import plural

MAX_XML = 128 * 2**20
_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
MEDIA = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio",
         "VideoSource": "video"}


@dataclass
class Code:
    guid: str
    name: str
    parent: str | None
    description: str = ""
    color: str | None = None
    codable: bool = True
    has_children: bool = False
    parent_index: int | None = None  # the parent's place in Project.codes (GUIDs may repeat)


@dataclass
class Selection:
    guid: str
    start: int
    end: int
    name: str
    user: str | None
    # (code guid, user guid, note guids, creationDateTime)
    codings: list[tuple[str, str | None, list[str], str | None]]
    notes: list[str]
    description: str = ""


@dataclass
class Source:
    guid: str
    name: str
    raw: str | None  # the text as in the file (BOM removed), None if not available
    selections: list[Selection]
    notes: list[str]
    variables: dict[str, str]
    problem: str = ""
    path: str = ""  # its plainTextPath, as written
    created: str | None = None  # its creationDateTime


@dataclass
class Note:
    guid: str
    name: str
    text: str
    user: str | None
    created: str | None = None
    modified: str | None = None


@dataclass
class Project:
    """A REFI-QDA project (or a codebook: only ``codes``)."""

    path: str
    origin: str = ""
    name: str = ""  # the project's name (a study's, when coder wrote it)
    users: dict[str, str] = field(default_factory=dict)  # guid -> name
    codes: list[Code] = field(default_factory=list)  # parents first
    sources: list[Source] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    project_notes: list[str] = field(default_factory=list)
    code_notes: dict[str, list[str]] = field(default_factory=dict)
    cases: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    media: list[Any] = field(default_factory=list)  # exchange.media.MediaSource
    base_path: str | None = None
    # code GUIDs that more than one code in the file has -> those codes' names
    shared_guids: dict[str, list[str]] = field(default_factory=dict)
    selections_lost: int = 0  # selections already listed in ``skipped``, and their codings
    codings_lost: int = 0


def parse_xml(data: bytes, path: str) -> Any:
    """Parse untrusted XML; returns the root with namespaces stripped from tags."""
    from lxml import etree

    if len(data) > MAX_XML:
        raise InputError(f"refused: the XML is {len(data) / 2**20:.0f} MB", path=path)
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise InputError("refused: XML with a DOCTYPE or entity declarations", path=path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, dtd_validation=False, remove_comments=True,
                             remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not valid XML ({exc.msg})", path=path,
                         line=getattr(exc, "lineno", None)) from None
    if root.getroottree().docinfo.doctype:
        raise InputError("refused: XML with a DOCTYPE", path=path)
    for element in root.iter():
        if not isinstance(element.tag, str):
            raise InputError("refused: XML with entity references", path=path)
        element.tag = etree.QName(element).localname
    return root


def read_file(path: Path) -> Project:
    """A ``.qdpx`` archive, a bare ``.qde`` project or a ``.qdc`` codebook."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    if zipfile.is_zipfile(path):
        return _read_archive(path)
    data = path.read_bytes()
    root = parse_xml(data, str(path))
    return _project(root, str(path), None)


def _safe_name(name: str) -> bool:
    name = name.replace("\\", "/")
    parts = PurePosixPath(name).parts
    return not (name.startswith("/") or ".." in parts or (parts and ":" in parts[0]))


def _read_archive(path: Path) -> Project:
    from coder.ingest.archive import check_zip, read_member

    check_zip(path, "a .qdpx")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if not all(_safe_name(m.filename) for m in members):
            raise InputError("refused: a .qdpx with unsafe paths inside", path=path)
        qdes = [m for m in members if m.filename.lower().endswith(".qde")
                and "/" not in m.filename.strip("/")]
        if not qdes:
            raise InputError("no .qde project inside the archive", path=path)
        qde = next((m for m in qdes if m.filename.lower() == "project.qde"), qdes[0])
        if qde.file_size > MAX_XML:
            raise InputError(f"refused: {qde.filename} is {qde.file_size / 2**20:.0f} MB",
                             path=path)
        root = parse_xml(read_member(archive, qde, path, limit=MAX_XML),
                         f"{path}:{qde.filename}")
        files = {m.filename.lower(): m for m in members if not m.is_dir()}

        def read(target: str) -> bytes | None:
            name = target.split("://", 1)[-1].lstrip("/").lower()
            for candidate in (name, f"sources/{name}", PurePosixPath(name).name,
                              f"sources/{PurePosixPath(name).name}"):
                if candidate in files:
                    return read_member(archive, files[candidate], path)
            return None

        return _project(root, str(path), read)


def _text(element: Any, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "") if child is not None else ""


def _project(root: Any, path: str, read: Any) -> Project:
    project = Project(path=path, origin=root.get("origin") or "",
                      name=(root.get("name") or "").strip())
    if root.tag == "CodeBook":
        codes = root.find("Codes")
        if codes is not None:
            _codes(codes, None, project)
        _shared_guids(project)
        sets = root.find("Sets")
        if sets is not None and len(sets):
            project.skipped.append(f"Sets ({len(sets)}): not part of a coder study")
        return project
    if root.tag != "Project":
        raise InputError(f"not a REFI-QDA project or codebook (root element {root.tag})",
                         path=path)
    for user in root.iterfind("Users/User"):
        project.users[gid(user.get("guid"))] = (user.get("name") or user.get("id")
                                                or gid(user.get("guid"))[:8])
    codes = root.find("CodeBook/Codes")
    if codes is not None:
        _codes(codes, None, project)
    _shared_guids(project)
    variables = {gid(v.get("guid")): v.get("name") or "" for v in root.iterfind(
        "Variables/Variable")}
    for case in root.iterfind("Cases/Case"):
        name = case.get("name") or ""
        if name:
            project.cases[name] = _values(case, variables)
    for element in root.iterfind("Sources/*"):
        if element.tag == "TextSource":
            project.sources.append(_source(element, variables, read, project))
            whole = len(element.findall("Coding"))
            if whole:
                project.codings_lost += whole
                project.skipped.append(f"{plural(whole, 'coding')} of the whole source "
                                       f"{project.sources[-1].name!r}")
        elif element.tag in ("AudioSource", "VideoSource"):
            from coder.exchange.media import read_media_source

            project.media.append(read_media_source(element, MEDIA[element.tag], read))
        else:
            kind = MEDIA.get(element.tag, element.tag)
            held = len(element.findall(".//Coding"))
            selections = sum(child.tag.endswith("Selection") for child in element)
            project.selections_lost += selections
            project.codings_lost += held
            lost = f"; {plural(held, 'coding')} lost" if held else ""
            project.skipped.append(f"{kind} source {element.get('name') or element.get('guid')!r}"
                                   f" (only text sources are imported{lost})")
    if project.media:
        from coder.exchange.media import attach_transcripts

        project.base_path = root.get("basePath")
        attach_transcripts(project)
    for note in root.iterfind("Notes/Note"):
        text = _text(note, "PlainTextContent")
        if not text and note.get("plainTextPath") and read:
            data = read(note.get("plainTextPath"))
            text = data.decode("utf-8-sig", errors="replace") if data else ""
        description = _text(note, "Description")
        if description and description not in text:
            text = f"{description}\n\n{text}" if text else description
        project.notes[gid(note.get("guid"))] = Note(
            gid(note.get("guid")), note.get("name") or "", text.strip(),
            gid(note.get("creatingUser")) or None, stamp(note.get("creationDateTime")),
            stamp(note.get("modifiedDateTime")))
    project.project_notes = [gid(r.get("targetGUID")) for r in root.iterfind("NoteRef")]
    for tag in ("Links", "Sets", "Graphs"):
        found = root.find(tag)
        if found is not None and len(found):
            project.skipped.append(f"{tag} ({len(found)}): not part of a coder study")
    return project


def _codes(parent_element: Any, parent: str | None, project: Project,
           parent_index: int | None = None) -> None:
    for element in parent_element.iterfind("Code"):
        guid = gid(element.get("guid"))
        codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        project.codes.append(Code(guid, (element.get("name") or "").strip(), parent,
                                  _text(element, "Description").strip(), element.get("color"),
                                  codable, element.find("Code") is not None, parent_index))
        refs = [gid(r.get("targetGUID")) for r in element.iterfind("NoteRef")]
        if refs:
            project.code_notes[guid] = refs
        _codes(element, guid, project, len(project.codes) - 1)


def _shared_guids(project: Project) -> None:
    """Note the GUIDs that several codes share: a coding that names one is ambiguous."""
    names: dict[str, list[str]] = {}
    for code in project.codes:
        names.setdefault(code.guid, []).append(code.name)
    project.shared_guids = {guid: found for guid, found in names.items() if len(found) > 1}


def _values(element: Any, variables: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in element.iterfind("VariableValue"):
        ref = value.find("VariableRef")
        name = variables.get(gid(ref.get("targetGUID")) if ref is not None else "")
        content = [c.text for c in value if c.tag != "VariableRef" and c.text]
        if name and content:
            out[name] = content[0].strip()
    return out


def _source(element: Any, variables: dict[str, str], read: Any, project: Project) -> Source:
    guid = gid(element.get("guid"))
    name = element.get("name") or ""
    raw, problem = None, ""
    target = element.get("plainTextPath")
    if target and read is not None:
        data = read(target)
        if data is None:
            problem = f"its text file {target} is not in the archive"
        else:
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError:
                raw = data.decode("cp1252", errors="replace")
                problem = "its text is not UTF-8 (read as cp1252)"
    if raw is None and element.find("PlainTextContent") is not None:
        raw, problem = _text(element, "PlainTextContent"), ""
    if raw is None and not problem:
        problem = ("its text is not in the file (a .qde without its sources)" if read is None
                   else "it has no text")
    if raw is not None and raw.startswith("\ufeff"):
        raw = raw[1:]
    if not name:
        name = PurePosixPath((target or guid).split("://", 1)[-1]).stem
    selections = []
    for sel in element.iterfind("PlainTextSelection"):
        start, end = _offset(sel.get("startPosition")), _offset(sel.get("endPosition"))
        if start is None or end is None:
            lost = len(sel.findall("Coding"))
            project.selections_lost += 1
            project.codings_lost += lost
            label = sel.get("name") or gid(sel.get("guid"))
            project.skipped.append(
                f"selection {label!r} in {name!r}: offsets {sel.get('startPosition')!r}, "
                f"{sel.get('endPosition')!r} are not whole numbers ({plural(lost, 'coding')} lost)")
            continue
        codings = []
        for coding in sel.iterfind("Coding"):
            ref = coding.find("CodeRef")
            if ref is not None:
                codings.append((gid(ref.get("targetGUID")), gid(coding.get("creatingUser"))
                                or None, [gid(r.get("targetGUID"))
                                          for r in coding.iterfind("NoteRef")],
                                stamp(coding.get("creationDateTime"))
                                or stamp(sel.get("creationDateTime"))))
        selections.append(Selection(
            gid(sel.get("guid")), min(start, end), max(start, end), sel.get("name") or "",
            gid(sel.get("creatingUser")) or None, codings,
            [gid(r.get("targetGUID")) for r in sel.iterfind("NoteRef")],
            _text(sel, "Description").strip()))
    return Source(guid, name, raw, selections,
                  [gid(r.get("targetGUID")) for r in element.iterfind("NoteRef")],
                  _values(element, variables), problem, target or "",
                  stamp(element.get("creationDateTime")))


def stamp(value: str | None) -> str | None:
    """A creation or modification time as written, when it is an ISO 8601 date-time."""
    from datetime import datetime

    if not value or len(value) > 40:
        return None
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return value.strip()


def _offset(value: str | None) -> int | None:
    """A selection offset: a whole number (``12``, ``+12``), else None (``12.5``, ``abc``)."""
    text = (value or "").strip()
    return int(text) if _INTEGER.match(text) else None
