"""`coder import --preview`: what an import would store, per file, without writing anything.

The CLI and the workbench's "import new files" command show the same lines
(:func:`preview_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coder.errors import CoderError
from coder.formatting import clock, plural, visible
from coder.importer import SPEAKERS_FILE, ImportOptions, expand_paths, read_document
from coder.importer import with_known_speakers as _with_known_speakers
from coder.store.db import Store
from coder.study import Study

FIRST_TURNS = 4


@dataclass
class FilePreview:
    """What importing one file would store."""

    path: Path
    detected: str = ""
    segments: int = 0
    speakers: list[tuple[str, int, int]] = field(default_factory=list)  # name, turns, words
    first: list[tuple[str | None, str, float | None, int | None]] = field(default_factory=list)
    times: tuple[int, float, float] | None = None  # segments with a time, first, last
    pages: int = 0
    metadata: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def preview_paths(study: Study, paths: list[Path], options: ImportOptions) -> list[FilePreview]:
    """Parse and segment every file as ``coder import`` would; write nothing."""
    files = expand_paths(paths)
    options = _with_known_speakers(options, study, files)
    out = []
    for path in files:
        if path.name.lower() == SPEAKERS_FILE:
            continue
        item = FilePreview(path)
        try:
            doc, segments, warnings = read_document(path, options)
        except CoderError as exc:
            item.error = str(exc)
            out.append(item)
            continue
        item.detected = doc.detected or doc.format
        item.segments = len(segments)
        counts: dict[str, list[int]] = {}
        for seg in segments:
            if seg.speaker:
                entry = counts.setdefault(seg.speaker, [0, 0])
                entry[0] += 1
                entry[1] += len(seg.text.split())
        item.speakers = sorted(((n, t, w) for n, (t, w) in counts.items()),
                               key=lambda x: -x[2])
        item.first = [(s.speaker, s.text, s.time_start, s.page) for s in segments[:FIRST_TURNS]]
        timed = [s.time_start for s in segments if s.time_start is not None]
        if timed:
            item.times = (len(timed), min(timed), max(timed))
        item.pages = len(doc.pages)
        item.metadata = {k: v for k, v in doc.metadata.items() if k not in ("columns",)}
        item.notes = list(doc.notes)
        item.warnings = warnings
        out.append(item)
    return out


def pending_previews(store: Store, study: Study) -> list[FilePreview]:
    """Previews of the files in ``transcripts/`` that a sync would import or replace."""
    import hashlib

    from coder.store.transcripts import transcript_hashes

    if not study.transcripts_dir.is_dir():
        return []
    known = transcript_hashes(store)
    pending = [p for p in expand_paths([study.transcripts_dir])
               if p.name.lower() != SPEAKERS_FILE
               and known.get(p.stem) != hashlib.sha256(p.read_bytes()).hexdigest()]
    if not pending:
        return []
    options = ImportOptions(segmentation=study.settings.segmentation, replace=True)
    return preview_paths(study, pending, options)


def preview_lines(previews: list[FilePreview], width: int = 100,
                  root: Path | None = None) -> list[str]:
    """The preview as plain text lines, one block per file (paths relative to ``root``);
    control characters in the files are made visible (see :func:`coder.formatting.visible`)."""
    lines: list[str] = []
    for item in previews:
        if lines:
            lines.append("")
        where = item.path
        if root is not None and item.path.is_relative_to(root):
            where = item.path.relative_to(root)
        lines.append(f"{where}")
        if item.error:
            reason = item.error.removeprefix(f"{item.path}:")
            if reason[:1].isdigit():  # "12: bad cue timing" -> "line 12: bad cue timing"
                reason = "line " + reason
            lines.append(f"  would not import: {reason.strip()}")
            continue
        lines.append(f"  format: {item.detected}")
        lines.append(f"  {plural(item.segments, 'segment')}" + (
            f" on {plural(item.pages, 'page')}" if item.pages else ""))
        if item.speakers:
            lines.append("  speakers: " + "; ".join(
                f"{name} ({plural(turns, 'turn')}, {words:,} word{'s' * (words != 1)})"
                for name, turns, words in item.speakers[:12])
                + (f"; … {len(item.speakers) - 12} more" if len(item.speakers) > 12 else ""))
        else:
            lines.append("  speakers: none")
        if item.times:
            n, first, last = item.times
            lines.append(f"  times: {plural(n, 'segment')} timed, {clock(first)} to {clock(last)}")
        else:
            lines.append("  times: none in the file")
        for key in ("question", "keywords", "clock_start"):
            if key in item.metadata:
                value = item.metadata[key]
                shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                lines.append(f"  {key}: {shown[:width]}")
        lines.append("  first segments as stored:")
        for speaker, text, time, page in item.first:
            at = clock(time) if time is not None else (f"p. {page}" if page else "")
            head = " ".join(x for x in (at, f"{speaker}:" if speaker else "") if x)
            flat = " ".join(text.split())
            room = max(20, width - len(head) - 6)
            lines.append(f"    {head + ' ' if head else ''}"
                         f"{flat[:room]}{'…' if len(flat) > room else ''}")
        lines += [f"  note: {note}" for note in item.notes]
        lines += [f"  warning: {w}" for w in item.warnings]
    return [visible(line) for line in lines]  # a file's control characters are shown, not obeyed
