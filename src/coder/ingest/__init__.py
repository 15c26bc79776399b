"""Format parsers: turn a transcript or survey file into a :class:`Document`.

``parse_file`` dispatches on the file suffix (any case). Every problem with the file is
raised as :class:`coder.errors.InputError` carrying the file's path.
"""

from __future__ import annotations

from pathlib import Path

from coder.errors import InputError
from coder.ingest.captions import parse_srt, parse_vtt
from coder.ingest.decode import read_text
from coder.ingest.docx import parse_docx
from coder.ingest.model import Document, Turn
from coder.ingest.survey import parse_survey
from coder.ingest.turns import parse_turn_text

SUPPORTED = (".txt", ".md", ".vtt", ".srt", ".docx", ".csv", ".xlsx")
_OLD_FORMATS = {".doc": ".docx", ".xls": ".xlsx", ".rtf": ".docx or .txt"}

__all__ = [
    "SUPPORTED",
    "Document",
    "Turn",
    "parse_file",
    "parse_srt",
    "parse_turn_text",
    "parse_vtt",
    "read_text",
]


def parse_file(
    path: Path | str, *, text_column: str | None = None, id_column: str | None = None
) -> Document:
    """Parse one file. ``text_column``/``id_column`` apply to ``.csv``/``.xlsx`` only.

    ``Document.name`` is the file name without its extension; ``Document.format`` is the
    lower-case suffix without the dot.
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
            return parse_turn_text(read_text(path), name=name, fmt=fmt)
        if fmt in ("vtt", "srt"):
            text = read_text(path, kind="caption file")
            return parse_vtt(text, name=name) if fmt == "vtt" else parse_srt(text, name=name)
        if fmt == "docx":
            return parse_docx(path, name=name)
        return parse_survey(path, name=name, text_column=text_column, id_column=id_column)
    except InputError as exc:
        if exc.path is None:
            exc.path = str(path)
        raise
