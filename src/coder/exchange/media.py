"""Recordings in REFI-QDA: ``AudioSource``/``VideoSource`` with a ``Transcript`` and its
``SyncPoint``s (position in the transcript text, timeStamp in milliseconds).

Export: a transcript with a recording gets an audio (or video) source whose transcript is
the text source's own text file, with a sync point at each segment start and end that has a
time. Import: a media source's transcript that is also a text source (as coder writes it)
links that transcript; one that is not (ATLAS.ti, NVivo) is imported as a text source of its
own. Its sync points become segment times, and the recording is linked by its path (never
copied: a recording inside the archive is reported, not extracted).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from coder.exchange.ids import normalise_guid as gid

TAGS = {"audio": "AudioSource", "video": "VideoSource"}


@dataclass
class MediaTranscript:
    guid: str
    name: str
    raw: str | None
    sync: list[tuple[int, int]]  # (position, milliseconds), in order of position
    source_guid: str = ""  # the text source it is (set by :func:`attach_transcripts`)
    coded_selections: int = 0


@dataclass
class MediaSource:
    guid: str
    name: str
    kind: str  # audio | video
    path: str  # as in the file: absolute://, relative://, internal:// or a bare path
    transcripts: list[MediaTranscript] = field(default_factory=list)


# -- export --------------------------------------------------------------------------------
def media_sources(E: Any, guids: Any, data: Any, source_guid: dict[int, str],
                  position: Any = None) -> list[Any]:
    """AudioSource/VideoSource elements for the transcripts of ``data`` with a recording.

    ``position``: None (code points), or a function of a transcript's text giving the
    function from a code point index to the exported position (UTF-16 units).
    """
    out = []
    for transcript in data.transcripts:
        media = data.media.get(transcript["id"])
        if media is None:
            continue
        text_guid = source_guid[transcript["id"]]
        element = getattr(E, TAGS[media.kind])(
            guid=guids.of("media", text_guid), name=media.path.name,
            path="absolute://" + media.path.resolve().as_posix(),
            creationDateTime=transcript["imported_at"])
        inner = E.Transcript(guid=guids.of("media transcript", text_guid),
                             name=transcript["name"], plainTextPath=f"internal://{text_guid}.txt",
                             creationDateTime=transcript["imported_at"])
        points: dict[int, float] = {}
        for seg in sorted(data.segment_times.get(transcript["id"], []),
                          key=lambda s: s["start"]):
            if seg["time_start"] is not None:
                points.setdefault(seg["start"], seg["time_start"])
            if seg["time_end"] is not None:
                points.setdefault(seg["end"], seg["time_end"])
        convert = position(transcript["text"]) if position else None
        for char, seconds in sorted(points.items()):
            inner.append(E.SyncPoint(guid=guids.of("sync", text_guid, char),
                                     position=str(convert(char) if convert else char),
                                     timeStamp=str(round(seconds * 1000))))
        element.append(inner)
        out.append(element)
    return out


# -- import --------------------------------------------------------------------------------
def read_media_source(element: Any, kind: str, read: Any) -> MediaSource:
    """The source's path and its transcripts (text and sync points)."""
    source = MediaSource(gid(element.get("guid")), element.get("name") or "", kind,
                         element.get("path") or element.get("currentPath") or "")
    for transcript in element.iterfind("Transcript"):
        raw = None
        target = transcript.get("plainTextPath")
        if target and read is not None:
            data = read(target)
            if data is not None:
                raw = data.decode("utf-8", errors="replace")
        if raw is None and transcript.find("PlainTextContent") is not None:
            raw = transcript.findtext("PlainTextContent") or ""
        if raw is not None and raw.startswith("\ufeff"):
            raw = raw[1:]
        sync = []
        for point in transcript.iterfind("SyncPoint"):
            try:
                sync.append((int(point.get("position")), int(point.get("timeStamp"))))
            except (TypeError, ValueError):
                continue
        coded = sum(1 for s in transcript.iterfind("TranscriptSelection")
                    if s.find("Coding") is not None)
        name = transcript.get("name") or PurePosixPath(source.name).stem
        source.transcripts.append(MediaTranscript(gid(transcript.get("guid")), name, raw,
                                                  sorted(sync), coded_selections=coded))
    return source


def attach_transcripts(project: Any) -> None:
    """Match each media transcript to the text source with the same text, or add it as a
    text source of its own (so NVivo's and ATLAS.ti's transcribed recordings come in)."""
    from coder.exchange.read import Source

    by_text = {s.raw: s.guid for s in project.sources if s.raw is not None}
    by_name = {s.name: s for s in project.sources}
    for media in project.media:
        if not media.transcripts:
            project.skipped.append(f"{media.kind} source {media.name!r}: no transcript "
                                   "(coder imports transcribed recordings)")
        for item in media.transcripts:
            if item.coded_selections:
                project.skipped.append(f"{item.coded_selections} coded selection(s) of the "
                                       f"transcript {item.name!r} (coded by sync points)")
            if item.raw is not None and item.raw in by_text:
                item.source_guid = by_text[item.raw]
            elif item.name in by_name:  # also a text source (ATLAS.ti lists it twice)
                item.source_guid = by_name[item.name].guid
                if by_name[item.name].raw is None:
                    project.skipped.append(f"{media.kind} source {media.name!r}: its "
                                           f"transcript {item.name!r} is not in the file")
            elif item.raw is None:
                project.skipped.append(f"transcript {item.name!r} of {media.kind} source "
                                       f"{media.name!r}: its text is not in the file")
            else:
                item.source_guid = item.guid
                name = PurePosixPath(item.name).stem if "." in item.name else item.name
                project.sources.append(Source(item.guid, name, item.raw, [], [], {}))
                by_text[item.raw] = item.guid
                by_name[item.name] = project.sources[-1]


def _resolve(path: str, project_path: str, base: str | None) -> Path | None:
    """A media path as a file path (None for a recording inside the archive)."""
    scheme, _, rest = path.partition("://")
    if not _:
        scheme, rest = "", path
    if scheme == "internal":
        return None
    if scheme == "absolute":
        return Path(rest)
    rest = rest.lstrip("/") if scheme == "relative" else rest
    folder = Path(base) if base else Path(project_path).parent
    candidate = Path(rest)
    return candidate if candidate.is_absolute() else folder / candidate


def link_imported(store: Any, root: Path, project: Any, transcripts: dict[str, int],
                  convert: dict[str, Any], report: Any) -> None:
    """Link imported transcripts to their recordings and set times from sync points.

    ``transcripts``: text source guid -> transcript id; ``convert``: guid -> a function
    from a position in the file's convention to a position in the stored text.
    """
    from coder.media.find import is_file, kind_of, stored_path, unusable
    from coder.store.media import (
        media_link,
        segment_timing,
        set_media_link,
        set_segment_time,
        transcript_text,
    )

    for media in project.media:
        why = unusable(media.path) if media.path else "it has no path"
        path = None if why else _resolve(media.path, project.path, project.base_path)
        if path is not None and kind_of(path) is None:
            why = "its file is not a recording coder knows"
        for item in media.transcripts:
            tid = transcripts.get(item.source_guid)
            if tid is None:
                continue
            if why:
                report.skipped.append(f"{media.kind} source {media.name!r}: not linked ({why})")
            elif path is None:
                report.skipped.append(f"{media.kind} source {media.name!r}: the recording is "
                                      "inside the archive (coder never copies recordings; "
                                      "extract it and run `coder media link`)")
            elif media_link(store, tid) is None:
                set_media_link(store, tid, stored_path(path, root))
                where = "" if is_file(path) else " (not there: `coder media link` it)"
                report.notes.append(f"{media.kind} source {media.name!r}: linked to "
                                    f"{stored_path(path, root)}{where}")
            to_text = convert.get(item.source_guid)
            points = [(to_text(p) if to_text else p, ms / 1000) for p, ms in item.sync]
            points = sorted((p, t) for p, t in points if p is not None)
            if points:
                timed = _apply_sync(store, segment_timing(store, tid), points,
                                    set_segment_time, transcript_text(store, tid))
                if timed:
                    report.notes.append(f"{media.kind} source {media.name!r}: {timed} segment "
                                        "time(s) from its sync points")


def _apply_sync(store: Any, segments: list[dict[str, Any]],
                points: list[tuple[int, float]], set_time: Any, text: str) -> int:
    """Give segments without times the times of the sync points (interpolated between two
    points when a boundary falls between them); returns how many times were set.

    Without a sync point at a segment's first character, it starts where its line starts
    (a sync point there is before the speaker's label, which the segment leaves out).
    """
    chars = [p for p, _ in points]
    times = [t for _, t in points]

    def at(char: int) -> float | None:
        i = bisect_right(chars, char) - 1
        if i < 0:
            return None
        if chars[i] == char:
            return times[i]
        if i + 1 < len(chars) and times[i + 1] >= times[i]:
            return times[i] + (times[i + 1] - times[i]) * (char - chars[i]) / (
                chars[i + 1] - chars[i])
        return None

    count, previous_end, known = 0, 0, set(chars)
    for seg in segments:
        line = text.rfind("\n", 0, seg["start"]) + 1
        exact = seg["start"] in known
        start = line if previous_end <= line <= seg["start"] and not exact else seg["start"]
        previous_end = seg["end"]
        for which, char in (("start", start), ("end", seg["end"])):
            if seg[f"time_{which}"] is None:
                value = at(char)
                if value is not None and set_time(store, seg["id"], which, value):
                    count += 1
    return count
