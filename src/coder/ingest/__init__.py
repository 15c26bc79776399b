"""Format parsers: turn a transcript or survey file into a :class:`Document`.

``parse_file`` dispatches on the file suffix (any case), then on content for text files.
Every problem with the file is raised as :class:`coder.errors.InputError` carrying the file's path.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.errors import InputError
from coder.ingest.captions import parse_srt, parse_vtt
from coder.ingest.cues import PAUSE
from coder.ingest.decode import read_text
from coder.ingest.docx import parse_docx
from coder.ingest.model import Document, Turn
from coder.ingest.survey import parse_survey
from coder.ingest.turns import parse_turn_text
from coder.ingest.zoom import looks_like_zoom, parse_zoom

SUPPORTED = (".txt", ".md", ".vtt", ".srt", ".docx", ".csv", ".xlsx", ".pdf")
# a SubRip file: an optional cue number, then a timing line
_SRT_START = re.compile(r"(?:\d+[ \t]*\n)?[ \t]*\d{1,2}:\d{2}:\d{2}[.,]\d{1,3}[ \t]*-->")
_OLD_FORMATS = {".doc": ".docx", ".xls": ".xlsx", ".rtf": ".docx or .txt"}

__all__ = [
    "SUPPORTED",
    "Document",
    "Turn",
    "parse_file",
    "parse_text",
    "parse_srt",
    "parse_turn_text",
    "parse_vtt",
    "read_text",
]


def parse_file(
    path: Path | str, *, text_column: str | None = None, id_column: str | None = None,
    pause: float = PAUSE, known_speakers: frozenset[str] = frozenset(),
) -> Document:
    """Parse one file. ``text_column``/``id_column`` apply to ``.csv``/``.xlsx`` only.

    Text files are recognised by content, not by name: WebVTT or SubRip saved as ``.txt``
    and Zoom's saved closed captions are read as captions. ``pause`` is the gap (seconds)
    that ends a caption turn; ``known_speakers`` are names from ``speakers.csv``.
    ``Document.name`` is the file name without its extension; ``Document.format`` is the
    lower-case suffix without the dot (or the caption format recognised in a ``.txt``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        if suffix in _OLD_FORMATS:
            reason = f"{suffix} files are not supported; save it as {_OLD_FORMATS[suffix]}"
        else:
            kind = f"'{suffix}'" if suffix else "(no extension)"
            reason = f"unsupported file type {kind} (supported: {', '.join(SUPPORTED)})"
        raise InputError(reason, path=path)
    name = path.stem
    fmt = suffix[1:]
    if not path.exists():
        raise InputError("no such file", path=path)
    if not path.is_file():
        raise InputError("not a regular file", path=path)
    try:
        if path.stat().st_size == 0:
            raise InputError("empty file", path=path)
        if fmt in ("txt", "md"):
            return parse_text(read_text(path), name=name, fmt=fmt, pause=pause,
                              known_speakers=known_speakers)
        if fmt in ("vtt", "srt"):
            text = read_text(path, kind="caption file")
            parse = parse_vtt if fmt == "vtt" else parse_srt
            return parse(text, name=name, pause=pause, known_speakers=known_speakers)
        if fmt == "docx":
            return parse_docx(path, name=name, known_speakers=known_speakers)
        if fmt == "pdf":
            from coder.ingest.pdf import parse_pdf

            return parse_pdf(path, name=name, known_speakers=known_speakers)
        return parse_survey(path, name=name, text_column=text_column, id_column=id_column)
    except InputError as exc:
        if exc.path is None:
            exc.path = str(path)
        raise


def parse_text(text: str, *, name: str, fmt: str, pause: float = PAUSE,
               known_speakers: frozenset[str] = frozenset()) -> Document:
    """A ``.txt``/``.md`` file's text, read as whatever its content says it is."""
    head = text.lstrip("\ufeff \t\n")[:2000]
    if head.startswith("WEBVTT"):
        doc = parse_vtt(text, name=name, pause=pause, known_speakers=known_speakers)
        doc.detected += f", saved as .{fmt}"
        return doc
    if _SRT_START.match(head):
        doc = parse_srt(text, name=name, pause=pause, known_speakers=known_speakers)
        doc.detected += f", saved as .{fmt}"
        return doc
    if looks_like_zoom(text) >= 2:
        return parse_zoom(text, name=name, fmt=fmt, pause=pause)
    return parse_turn_text(text, name=name, fmt=fmt, known_speakers=known_speakers)
