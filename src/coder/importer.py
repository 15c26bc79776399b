"""`coder import`: read transcript files, cut them into segments, analyse and store them.

A call is all or nothing: every file is read, parsed and analysed before anything is
written, and if any file is bad, every bad file is reported and the study is left as it
was. The writes are then one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.errors import CoderError, InputError
from coder.formatting import plural
from coder.ingest.cues import PAUSE
from coder.ingest.model import Document, Turn
from coder.store.db import Store
from coder.store.transcripts import (
    ReplaceReport,
    SegmentRow,
    import_state,
    insert_transcript,
    replace_transcript,
    set_speaker_attributes,
)
from coder.study import SEGMENTATIONS, Study

SPEAKERS_FILE = "speakers.csv"
# Files in a folder that are about the transcripts rather than transcripts (named ones still
# import when given one by one).
_NOT_TRANSCRIPTS = frozenset(["readme", "license", "licence", "changelog", "contributing"])
_TURN_FORMATS = {"txt", "md", "docx", "pdf"}


class ImportErrors(CoderError):
    """One or more files could not be imported; nothing was written."""

    def __init__(self, errors: list[CoderError]):
        self.errors = errors
        lines = [str(e) for e in errors]
        if len(errors) > 1:
            lines.append(f"{len(errors)} files could not be imported, so none was: fix them "
                         "and run the same command again")
        super().__init__("\n".join(lines))


@dataclass
class Outcome:
    """What happened to one file."""

    path: Path
    name: str
    status: str  # imported | replaced | unchanged | speakers
    segments: int = 0
    detail: str = ""
    replaced: ReplaceReport | None = None
    notes: list[str] = field(default_factory=list)  # guesses coder made
    warnings: list[str] = field(default_factory=list)  # "file:line: what; what to try"


@dataclass
class _Prepared:
    path: Path
    sha256: str
    document: Document
    segments: list[SegmentRow]
    existing_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    analysed: bool = True  # False: analysed batch by batch while stored (a huge file)


@dataclass
class ImportOptions:
    segmentation: str = "turn"
    replace: bool = False
    text_column: str | None = None
    id_column: str | None = None
    extra: dict = field(default_factory=dict)
    # --segment given on the command line: no falling back to paragraphs
    segmentation_given: bool = False
    pause: float = PAUSE  # seconds of silence that end a caption turn
    known_speakers: frozenset[str] = frozenset()  # names in transcripts/speakers.csv


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to import: files as given, folders searched for supported files (sorted)."""
    from coder.ingest import SUPPORTED

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file()
                            and (p.suffix.lower() in SUPPORTED or p.name.lower() == SPEAKERS_FILE)
                            and p.stem.lower() not in _NOT_TRANSCRIPTS  # not "changelog-42"
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError("no such file or folder", path=path)
    # speakers.csv last, so attributes attach to speakers imported in the same call
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return sorted(unique, key=lambda p: p.name.lower() == SPEAKERS_FILE)


def segment_document(doc: Document, segmentation: str,
                     given: bool = False) -> list[SegmentRow]:
    """Cut a parsed document into segments (without the NLP analysis).

    Text without speaker turns asked to be cut by turn is cut into paragraphs (and
    ``doc.notes`` says so), unless ``given`` (``--segment turn`` on the command line):
    then it is an error that shows the file's first lines and the options that would work.
    """
    if segmentation not in SEGMENTATIONS:
        raise CoderError(f"segmentation must be one of {', '.join(SEGMENTATIONS)}")
    turns = doc.turns
    if segmentation == "turn" and doc.format in _TURN_FORMATS and turns and not any(
            t.speaker for t in turns):
        if given:
            raise InputError(_no_turns_message(doc))
        segmentation = "paragraph"
        if not any(n.startswith("not dialogue") for n in doc.notes):
            doc.notes.append("no speaker labels (lines like `Name: ...`): imported as "
                             "paragraphs")
    if segmentation == "paragraph":
        from coder.ingest.paragraphs import split_paragraphs

        turns = split_paragraphs(doc.text, turns)
    elif segmentation == "sentence":
        from coder.nlp import pipeline

        nlp = pipeline()
        pieces: list[Turn] = []
        for turn in turns:
            for k, (start, end) in enumerate(nlp.sentences(doc.text[turn.start:turn.end])):
                pieces.append(Turn(turn.speaker, turn.start + start, turn.start + end,
                                   turn.time_start if k == 0 else None, None))
            if pieces and pieces[-1].speaker == turn.speaker:
                pieces[-1].time_end = turn.time_end
        turns = pieces
    if doc.times and segmentation != "turn":
        for piece in turns:  # each piece takes the time of the cue it starts (ends) in
            first, last = doc.time_at(piece.start), doc.time_at(max(piece.start, piece.end - 1))
            if first is not None:
                piece.time_start = first[0]
            if last is not None:
                piece.time_end = last[1]
    rows = [
        SegmentRow(ordinal=i, speaker=t.speaker, start=t.start, end=t.end,
                   time_start=t.time_start, time_end=t.time_end, text=doc.text[t.start:t.end],
                   page=doc.page_at(t.start))
        for i, t in enumerate((t for t in turns if t.end > t.start), start=1)
    ]
    if not rows:
        raise InputError("empty source (no text to import)")
    from coder.long_segments import MAX_SEGMENT_CHARS, split_long

    rows, split = split_long(rows)
    if split:  # shown after the import, and kept with the transcript
        doc.metadata["split_segments"] = {"limit": MAX_SEGMENT_CHARS, "segments": split}
    return rows


def _no_turns_message(doc: Document) -> str:
    lines = [line for line in doc.text.split("\n") if line.strip()][:5]
    shown = "\n".join(f"  | {line[:100]}" for line in lines)
    return ("no speaker turns found (lines like `Name: ...`, `**Name** [00:00]`, "
            f"`[Name] 12:00:00`). The file starts:\n{shown}\nTo import it: --segment "
            "paragraph or --segment sentence; if names start its lines without a colon, "
            "list them in transcripts/speakers.csv")


def read_speakers(path: Path) -> dict[str, dict[str, str]]:
    """``speakers.csv``: a `speaker` (or `name`) column and any attribute columns."""
    import csv
    import io

    from coder.ingest.decode import decode_bytes

    text = decode_bytes(path.read_bytes(), path)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    key = next((c for c in columns if c.lower() in ("speaker", "name")), None)
    if key is None:
        raise InputError(
            f"needs a 'speaker' column (columns: {', '.join(columns) or 'none'})", path=path)
    out: dict[str, dict[str, str]] = {}
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"not a readable CSV table ({exc})", path=path,
                         line=reader.line_num) from None
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        name = row.pop(key, "")
        if not name:
            raise InputError("a row without a speaker name", path=path, line=line)
        out[name] = {k: v for k, v in row.items() if k and v}
    return out


def import_paths(store: Store, study: Study, paths: list[Path], options: ImportOptions,
                 progress: Callable[[Path], None] | None = None) -> list[Outcome]:
    """Import files and folders into the study; see the module docstring."""
    files = expand_paths(paths)
    options = with_known_speakers(options, study, files)
    errors: list[CoderError] = []
    outcomes: list[Outcome] = []
    jobs: list[tuple[Path, str, int | None]] = []
    speakers: list[tuple[Path, dict[str, dict[str, str]]]] = []
    names: dict[str, Path] = {}
    for path in files:
        try:
            if path.name.lower() == SPEAKERS_FILE:
                speakers.append((path, read_speakers(path)))
                continue
            name = path.stem
            _check_file_name(path)
            if name in names:
                raise InputError(f"same transcript name {name!r} as {names[name]}", path=path)
            names[name] = path
            with path.open("rb") as stream:  # in chunks: a 200 MB file is not held twice
                sha = hashlib.file_digest(stream, "sha256").hexdigest()
            existing = import_state(store, name)
            if existing:
                changed = _changed_options(existing, options)
                if existing["sha256"] == sha and not changed:
                    outcomes.append(Outcome(path, name, "unchanged",
                                            detail="already imported"))
                    continue
                if not options.replace:
                    why = ("this file differs" if existing["sha256"] != sha
                           else f"it was imported with {changed}")
                    raise InputError(
                        f"transcript {name!r} was imported before and {why}; pass --replace "
                        "to import it again (codings on unchanged segments are kept)",
                        path=path)
            jobs.append((path, sha, existing["id"] if existing else None))
        except CoderError as exc:
            exc.path = exc.path or str(path)
            errors.append(exc)
        except OSError as exc:
            errors.append(InputError(f"cannot read ({exc.strerror or exc})", path=path))
    if jobs and not errors:
        store.will_write()  # a read-only check (the sync's) stops here, before the analysis
    # Files are analysed (in worker processes when there are many) while this process
    # writes them in one transaction; any error rolls the whole import back.
    with store.transaction("import"):
        for result in _prepare_all(jobs, options, study.settings.nlp_model):
            if progress:
                progress(result.path if isinstance(result, _Prepared)
                         else Path(result.path or ""))
            if isinstance(result, CoderError):
                errors.append(result)
            elif not errors:
                outcomes.append(_store_prepared(store, study, result, options))
        if errors:
            raise ImportErrors(errors)
        for path, attributes in speakers:
            values = set_speaker_attributes(store, attributes)
            outcomes.append(Outcome(path, path.name, "speakers" if values else "unchanged",
                                    detail=f"{plural(len(attributes), 'speaker')}, "
                                    f"{plural(values, 'attribute value')} set or changed"))
    return outcomes


def with_known_speakers(options: ImportOptions, study: Study, files: list[Path]
                        ) -> ImportOptions:
    """``options`` knowing the names in the study's (and the given) ``speakers.csv``."""
    import dataclasses

    names = set(options.known_speakers)
    sources = [p for p in files if p.name.lower() == SPEAKERS_FILE]
    own = study.transcripts_dir / SPEAKERS_FILE
    if own.is_file() and own.resolve() not in sources:
        sources.append(own)
    for source in sources:
        try:
            names |= set(read_speakers(source))
        except CoderError:
            if source in files:
                raise
    return dataclasses.replace(options, known_speakers=frozenset(names))


def _changed_options(existing: dict, options: ImportOptions) -> str:
    """How the options asked for now differ from those of the earlier import ('' if not)."""
    import json

    metadata = json.loads(existing["metadata"] or "{}")
    changes = []
    if existing["segmentation"] != options.segmentation:
        changes.append(f"--segment {existing['segmentation']}")
    if "pause" in metadata and metadata["pause"] != options.pause:
        changes.append(f"--pause {metadata['pause']:g}")
    for option, flag in (("text_column", "--text-column"), ("id_column", "--id-column")):
        asked = getattr(options, option)
        if asked is not None and asked != metadata.get(option):
            changes.append(f"{flag} {metadata.get(option) or '(none)'}")
    return " and ".join(changes)


def _store_prepared(store: Store, study: Study, item: _Prepared,
                    options: ImportOptions) -> Outcome:
    """Store one parsed and analysed file: a new transcript, or the new version of one."""
    doc = item.document
    if doc.speaker_attributes:
        set_speaker_attributes(store, doc.speaker_attributes)
    common: dict[str, Any] = dict(
        source_path=_display_path(item.path, study.root), sha256=item.sha256, fmt=doc.format,
        segmentation=options.segmentation, metadata=doc.metadata, text=doc.text,
        segments=item.segments)
    notes = []
    if doc.metadata.get("rows_without_answer"):
        rows = doc.metadata["rows_without_answer"]
        notes.append(f"{plural(len(rows), 'row')} without an answer left out (row "
                     f"{', '.join(map(str, rows[:5]))}{'…' if len(rows) > 5 else ''})")
    if doc.metadata.get("repeated_ids"):
        ids = doc.metadata["repeated_ids"]
        notes.append(f"ids used by more than one row: {', '.join(ids[:5])}"
                     f"{'…' if len(ids) > 5 else ''} (their attributes are merged)")
    if doc.metadata.get("kind") == "survey":
        notes.append(f"answers from {doc.metadata['text_column']!r}, respondents "
                     + (f"from {doc.metadata['id_column']!r}" if doc.metadata.get("id_column")
                        else "numbered by row"))
    if doc.metadata.get("split_segments"):
        split = doc.metadata["split_segments"]
        notes.append(f"{plural(len(split['segments']), 'segment')} longer than "
                     f"{split['limit']:,} characters split into pieces (turn "
                     f"{', '.join(map(str, split['segments'][:5]))}"
                     f"{'…' if len(split['segments']) > 5 else ''})")
    detail = "; ".join(notes)
    model = study.settings.nlp_model
    if item.existing_id is None:
        insert_transcript(store, name=doc.name, **common, prepare=None if item.analysed
                          else lambda batch: _analyse(batch, model))
        return Outcome(item.path, doc.name, "imported", len(item.segments), detail=detail,
                       notes=list(doc.notes), warnings=item.warnings)
    if not item.analysed:
        _analyse(item.segments, model)
    report = replace_transcript(store, item.existing_id, **common)
    return Outcome(item.path, doc.name, "replaced", len(item.segments), detail=detail,
                   replaced=report, notes=list(doc.notes), warnings=item.warnings)


# Worker processes are worth their start-up only for many files.
_PARALLEL_FROM = 8


def _prepare_all(jobs: list[tuple[Path, str, int | None]], options: ImportOptions,
                 model: str) -> Iterator[_Prepared | CoderError]:
    """Parse, segment and analyse each file, in document order, in parallel when it pays."""
    import multiprocessing
    import os

    from coder.nlp import pipeline

    if not jobs:  # nothing new: do not load the pipeline (a sync that finds nothing is cheap)
        return
    pipeline(model)  # load once here; forked workers inherit it
    tasks = [(path, sha, existing, options, model) for path, sha, existing in jobs]
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else (os.cpu_count() or 1), 4)
    if (len(tasks) < _PARALLEL_FROM or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        yield from map(_prepare_one, tasks)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_prepare_one, tasks, chunksize=2)


def read_document(path: Path, options: ImportOptions
                  ) -> tuple[Document, list[SegmentRow], list[str]]:
    """Parse and segment one file as an import would; its warnings name the file."""
    from coder.ingest import parse_file
    from coder.ingest.checks import check

    document = parse_file(path, text_column=options.text_column, id_column=options.id_column,
                          pause=options.pause, known_speakers=options.known_speakers)
    document.name = path.stem
    segments = segment_document(document, options.segmentation, options.segmentation_given)
    warnings = [f"{path}: {w}" if not w.startswith("line ") else f"{path}:{w[5:]}"
                for w in check(document, segments)]
    return document, segments, warnings


# Above this many characters a file's segments are analysed batch by batch as they are
# stored, so their lemmas and token offsets (about twice the text) are never all in memory.
_ANALYSE_WHILE_STORING = 16 * 2**20


def _analyse(segments: list[SegmentRow], model: str) -> None:
    """Give each segment its lemmas and token offsets (the spaCy pipeline)."""
    from coder.nlp import pipeline

    analysed = pipeline(model).analyse(s.text for s in segments)
    for seg, (lemmas, tokens) in zip(segments, analysed, strict=True):
        seg.lemmas, seg.tokens = lemmas, tokens


def _prepare_one(task: tuple[Path, str, int | None, ImportOptions, str]) -> _Prepared | CoderError:
    path, sha, existing, options, model = task
    try:
        document, segments, warnings = read_document(path, options)
        if len(document.text) > _ANALYSE_WHILE_STORING:
            return _Prepared(path, sha, document, segments, existing, warnings, analysed=False)
        _analyse(segments, model)
        return _Prepared(path, sha, document, segments, existing, warnings)
    except CoderError as exc:
        exc.path = exc.path or str(path)
        return exc
    except OSError as exc:
        return InputError(f"cannot read ({exc.strerror or exc})", path=path)


def _display_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def _check_file_name(path: Path) -> None:
    """A transcript is named after its file: refuse names that cannot be stored or shown."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("the file name is not valid UTF-8; rename the file (e.g. with "
                         "`convmv` or your file manager) and import it again",
                         path=path) from None
    from coder.formatting import check_name

    try:
        check_name(path.stem, "a file name")
    except CoderError as exc:
        raise InputError(f"{exc.reason}; rename the file", path=path) from None
