"""Read what an export needs from the study (read-only queries), in a stable order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coder.store.db import Store


@dataclass
class StudyData:
    """Everything a REFI-QDA export writes, as plain rows."""

    codes: list[dict[str, Any]]
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[int, dict[str, Any]] = field(default_factory=dict)
    codings: list[dict[str, Any]] = field(default_factory=list)
    memos: list[dict[str, Any]] = field(default_factory=list)
    speakers: dict[str, dict[str, str]] = field(default_factory=dict)
    coders: list[str] = field(default_factory=list)
    media: dict[int, Any] = field(default_factory=dict)  # transcript id -> its recording
    segment_times: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def collect_codes(store: Store) -> list[dict[str, Any]]:
    """The code tree in order (parents first)."""
    from coder.store.codes import list_codes

    return list_codes(store)


def collect(store: Store, coder: str) -> StudyData:
    """Codes, transcripts with their text, segments, codings, memos, speakers and coders."""
    from coder.store import refi
    from coder.store.memos import list_memos

    data = StudyData(codes=collect_codes(store))
    data.transcripts = refi.transcripts_with_text(store)
    data.segments = {r["id"]: r for r in refi.segment_extents(store)}
    data.codings = refi.all_codings(store)
    data.memos = list_memos(store)
    for row in refi.speaker_attribute_rows(store):
        values = data.speakers.setdefault(row["name"], {})
        if row["key"] is not None:
            values[row["key"]] = row["value"]
    names = {coder} | {c["coder"] for c in data.codings} | {m["coder"] for m in data.memos}
    data.coders = sorted(names)
    _collect_media(store, data)
    return data


def _collect_media(store: Store, data: StudyData) -> None:
    """Recordings (the study folder is the database's) and the segment times to sync."""
    from coder.media.find import all_media
    from coder.store.media import segment_timing

    found = all_media(store, store.path.parent)
    data.media = {tid: media for tid, media in found.items() if media is not None}
    data.segment_times = {tid: segment_timing(store, tid) for tid in data.media}
