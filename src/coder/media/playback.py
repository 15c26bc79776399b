"""Playing a transcript's recording segment by segment: the core the CLI and workbench share.

:class:`Playback` owns one :class:`~coder.media.mpv.Mpv` (started on first use) and the
open transcript's timeline; every key of the workbench and ``coder play`` is one method.
"""

from __future__ import annotations

import math
from pathlib import Path

from coder.errors import CoderError
from coder.formatting import clock, clock_exact
from coder.media.find import Media, media_of
from coder.media.mpv import Mpv
from coder.media.timeline import Span, span_at, timeline
from coder.store.db import Store

SKIP_SECONDS = 5.0
FOLLOW_LEAD = 0.2  # seconds


class Playback:
    """The recording of one transcript at a time, and the segments' places in it."""

    def __init__(self, store: Store, root: Path, player: Mpv | None = None):
        self.store = store
        self.root = root
        self.player = player or Mpv()
        self.transcript: dict | None = None
        self.media: Media | None = None
        self.spans: list[Span] = []
        self.starts: list[float] = []
        self._version: tuple[int, float | None] | None = None

    def open(self, transcript_id: int) -> Media | None:
        """Make ``transcript_id`` the transcript to play (its recording loads on first play)."""
        from coder.store.media import transcript_row

        self.transcript = transcript_row(self.store, transcript_id)
        self.media = media_of(self.store, self.root, self.transcript)
        self._version = None
        self.refresh()
        return self.media

    def refresh(self) -> None:
        """Re-read the segments' times when they may have changed (a time set or undone
        anywhere, a re-import) or the recording's duration became known."""
        from coder.store.media import last_event, segment_timing

        if self.transcript is None:
            return
        loaded = self.media is not None and self.player.loaded == self.media.path
        duration = self.player.duration if loaded else None
        version = (last_event(self.store), duration)
        if version == self._version:
            return
        self._version = version
        self.spans = timeline(segment_timing(self.store, self.transcript["id"]), duration)
        self.starts = [s.start for s in self.spans]

    def close(self) -> None:
        self.player.close()

    # -- what the keys do ------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Start mpv and load the recording; CoderError saying what to do when it cannot."""
        if self.transcript is None:
            raise CoderError("open a transcript first")
        media, name = self.media, self.transcript["name"]
        if media is None:
            raise CoderError(f"{name} has no recording: put one with the same name beside its "
                             f"file, add `media:` to its front matter, or run "
                             f"`coder media link {name} FILE`")
        if self.player.loaded != media.path:
            self.player.load(media.path)
            if media.kind == "video" and self.player.video:
                self.player.show_video(True)
            self.refresh()

    def index_of(self, ordinal: int) -> int:
        index = next((i for i, s in enumerate(self.spans) if s.ordinal == ordinal), None)
        if index is None:
            raise CoderError(f"{self.transcript and self.transcript['name']} has no segment "
                             f"{ordinal}")
        return index

    def play_segment(self, index: int) -> Span:
        """Play segment ``index`` (0-based) from its start; playback pauses at its end."""
        self.ensure_loaded()
        span = self.spans[index]
        self.player.play_range(span.start, span.end)
        return span

    def toggle(self) -> bool:
        """Play or pause; True when playing now."""
        self.ensure_loaded()
        return self.player.toggle_pause()

    def skip(self, seconds: float) -> float | None:
        self.ensure_loaded()
        self.player.skip(seconds)
        return self.player.position

    def speed(self, step: int) -> float:
        self.ensure_loaded()
        return self.player.step_speed(step)

    def show_video(self) -> bool:
        """Toggle the video window; True when it shows now."""
        self.ensure_loaded()
        self.player.show_video(not self.player.video)
        return self.player.video

    def playing_index(self) -> int | None:
        """The segment at the playback position (None when nothing is loaded)."""
        if self.media is None or self.player.loaded != self.media.path:
            return None
        position = self.player.position
        # a little ahead: a seek lands a few frames early, and following reads better early
        return None if position is None else span_at(self.spans, position + FOLLOW_LEAD,
                                                     self.starts)

    def set_time(self, index: int, which: str) -> float:
        """Set segment ``index``'s start or end to the playback position (undoable)."""
        from coder.store.media import set_segment_time

        if self.transcript is None or self.media is None \
                or self.player.loaded != self.media.path or self.player.position is None:
            raise CoderError("nothing is playing: play the recording first")
        # to the millisecond, rounded so the playback position stays inside the segment
        exact = self.player.position * 1000
        position = (math.floor(exact) if which == "start" else math.ceil(exact)) / 1000
        span = self.spans[index]
        if which == "start" and position > span.end and self._has(span, "end"):
            raise CoderError(f"¶{span.ordinal} ends at {clock_exact(span.end)}: a start at "
                             f"{clock_exact(position)} would come after it")
        if which == "end" and position < span.start and self._has(span, "start"):
            raise CoderError(f"¶{span.ordinal} starts at {clock_exact(span.start)}: an end at "
                             f"{clock_exact(position)} would come before it")
        with self.store.transaction("set time"):
            set_segment_time(self.store, span.segment_id, which, position)
        self.refresh()
        return position

    def _has(self, span: Span, which: str) -> bool:
        from coder.store.media import segment_timing

        assert self.transcript is not None
        row = next(r for r in segment_timing(self.store, self.transcript["id"])
                   if r["id"] == span.segment_id)
        return row[f"time_{which}"] is not None

    def status(self) -> str:
        """``▶ 00:01:02.3/00:05:00 1.25×`` (empty before the first play)."""
        if self.media is None or self.player.loaded != self.media.path:
            return ""
        position, duration = self.player.position, self.player.duration
        if position is None:
            return ""
        mark = "⏸" if self.player.paused else "▶"
        total = f"/{clock(duration)}" if duration else ""
        speed = self.player.speed
        rate = f" {speed:g}×" if abs(speed - 1.0) > 1e-6 else ""
        return f"{mark} {clock_exact(position)}{total}{rate}"


def play_once(store: Store, root: Path, transcript: str, ordinal: int, *, video: bool = False,
              player: Mpv | None = None, wait: bool = True) -> tuple[Media, Span, Playback]:
    """``coder play``: play one segment; with ``wait``, return when it has played."""
    from coder.store.transcripts import segment_id

    row, _ = segment_id(store, transcript, ordinal)
    playback = Playback(store, root, player)
    try:
        playback.open(row["id"])
        playback.ensure_loaded()
        if video:
            playback.player.show_video(True)
        span = playback.play_segment(playback.index_of(ordinal))
    except BaseException:
        playback.close()  # mpv ends with the command, also when it fails
        raise
    if wait:
        speed = playback.player.speed or 1.0
        playback.player.wait_paused((span.end - span.start) / speed + 5.0)
    assert playback.media is not None
    return playback.media, span, playback
