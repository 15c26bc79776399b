"""Finding a transcript's recording: a link, its front matter, or a file of the same name.

The order, first found wins: a link made with ``coder media link`` (or brought by an import),
then ``media:`` in the transcript's front matter (relative to the transcript file), then a
recording with the same stem beside the transcript file (audio before video). Recordings
are never copied: a link is a path, relative to the study when the file is inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.store.db import Store

AUDIO = (".m4a", ".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".aac", ".wma", ".aiff",
         ".aif", ".amr", ".mka", ".weba")
VIDEO = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".mpg", ".mpeg", ".3gp",
         ".ogv")
LINKED, FRONT_MATTER, SAME_NAME = "linked", "front matter", "same name"


@dataclass(frozen=True)
class Media:
    """A transcript's recording and how it was found."""

    path: Path  # absolute
    stored: str  # as linked or written: relative to the study when inside it
    how: str  # LINKED | FRONT_MATTER | SAME_NAME
    kind: str  # "audio" | "video" (by extension; "audio" when unknown)

    @property
    def exists(self) -> bool:
        return is_file(self.path)


def is_file(path: Path) -> bool:
    """``path.is_file()``, False for paths the system cannot even look up (NUL, too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def unusable(path: str) -> str | None:
    """Why a path from outside cannot be a recording's (control characters), or None."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return "its path has control characters"
    if len(path) > 4096:
        return "its path is too long"
    return None


def kind_of(path: Path) -> str | None:
    """"audio", "video", or None when the extension is not a recording's."""
    suffix = path.suffix.lower()
    return "audio" if suffix in AUDIO else "video" if suffix in VIDEO else None


def stored_path(path: Path, root: Path) -> str:
    """``path`` relative to the study ``root`` when it is inside it, else absolute."""
    try:
        resolved = path.expanduser().resolve()
    except (OSError, ValueError, RuntimeError):
        resolved = path.absolute()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def _media(path: Path, root: Path, how: str) -> Media:
    full = path if path.is_absolute() else root / path
    return Media(full, stored_path(full, root), how, kind_of(full) or "audio")


def find_media(root: Path, transcript: dict[str, Any], link: str | None,
               listings: dict[Path, dict[str, list[Path]]] | None = None) -> Media | None:
    """The recording of ``transcript`` (a row with ``source_path`` and ``metadata``).

    ``listings`` caches folder listings between calls (a study's transcripts share folders).
    """
    if link:
        return _media(Path(link), root, LINKED)
    source = Path(transcript.get("source_path") or "")
    folder = (source if source.is_absolute() else root / source).parent
    declared = (transcript.get("metadata") or {}).get("media")
    if isinstance(declared, str) and declared.strip() and not unusable(declared):
        path = Path(declared.strip()).expanduser()
        return _media(path if path.is_absolute() else folder / path, root, FRONT_MATTER)
    if not source.name or not folder.is_dir():
        return None
    listings = {} if listings is None else listings
    if folder not in listings:
        listings[folder] = _recordings_in(folder)
    beside = listings[folder].get(source.stem)
    return _media(beside[0], root, SAME_NAME) if beside else None


def _recordings_in(folder: Path) -> dict[str, list[Path]]:
    """The folder's recordings by stem, audio before video."""
    by_stem: dict[str, list[Path]] = {}
    try:
        for path in folder.iterdir():
            if kind_of(path) and not unusable(path.name):
                by_stem.setdefault(path.stem, []).append(path)
    except OSError:
        return {}
    order = {ext: n for n, ext in enumerate(AUDIO + VIDEO)}
    for paths in by_stem.values():
        paths.sort(key=lambda p: (order[p.suffix.lower()], p.name))
    return by_stem


def media_of(store: Store, root: Path, transcript: dict[str, Any]) -> Media | None:
    """:func:`find_media` with the transcript's link read from the study."""
    from coder.store.media import media_link

    return find_media(root, transcript, media_link(store, transcript["id"]))


def all_media(store: Store, root: Path) -> dict[int, Media | None]:
    """Every transcript's recording (or None), by transcript id."""
    import json

    from coder.store.media import media_links
    from coder.store.transcripts import transcript_sources

    links = media_links(store)
    out: dict[int, Media | None] = {}
    listings: dict[Path, dict[str, list[Path]]] = {}
    for row in transcript_sources(store):
        row["metadata"] = json.loads(row["metadata"] or "{}")
        out[row["id"]] = find_media(root, row, links.get(row["id"]), listings)
    return out


def link_media(store: Store, root: Path, transcript: str, file: Path | None) -> Media | None:
    """Link ``transcript`` to the recording ``file`` (None: remove the link); the new media.

    The file must exist and be audio or video; it is stored relative to the study when it is
    inside it, so the study folder can move. Undoable (``coder undo``).
    """
    from coder.store.media import set_media_link
    from coder.store.transcripts import get_transcript

    with store.transaction("media link"):
        row = get_transcript(store, transcript)
        if file is None:
            set_media_link(store, row["id"], None)
            return media_of(store, root, row)
        why = unusable(str(file))
        if why:
            raise CoderError(why, path=repr(str(file)))
        path = file.expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        if not is_file(path):
            raise CoderError("no such file" if not path.exists() else "not a file", path=file)
        if kind_of(path) is None:
            raise CoderError("not a recording coder knows (audio: "
                             f"{' '.join(AUDIO)}; video: {' '.join(VIDEO)})", path=file)
        set_media_link(store, row["id"], stored_path(path, root))
        return media_of(store, root, row)
