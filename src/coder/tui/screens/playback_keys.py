"""The coding screen's keys for the recording: play a segment, pause, skip, speed, follow,
set a segment's times from the playback position.

A base class of the coding screen: the screen lists :data:`PLAYBACK_BINDINGS` with its own
and shows its status line through :meth:`PlaybackKeys.show_status`, which adds the playback
position. Everything else goes through :class:`coder.media.playback.Playback`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import SystemCommand
from textual.binding import Binding

from coder.formatting import clock_exact
from coder.tui.screens.base import CoderScreen
from coder.tui.widgets.status_line import StatusLine
from coder.tui.widgets.transcript_view import TranscriptView

if TYPE_CHECKING:
    from coder.media.playback import Playback

TICK = 0.25  # seconds between status and follow updates while a recording is loaded


# The coding screen lists these after its own (so `?` shows them after the coding keys).
PLAYBACK_BINDINGS = [
    Binding("ctrl+space,ctrl+@", "play_segment", "Play segment (stops at its end)",
            show=False, key_display="ctrl+space", id="media.play"),
    Binding("ctrl+l", "play_pause", "Play/pause", show=False, id="media.pause"),
    Binding("less_than_sign", "skip(-1)", "Back 5 s", show=False, id="media.back"),
    Binding("greater_than_sign", "skip(1)", "Forward 5 s", show=False,
            id="media.forward"),
    Binding("minus", "speed(-1)", "Slower", show=False, id="media.slower"),
    Binding("plus,equals_sign", "speed(1)", "Faster", show=False, id="media.faster"),
    Binding("ctrl+g", "follow", "Follow playback", show=False, id="media.follow"),
    Binding("left_curly_bracket", "set_time('start')", "Segment starts here (playback)",
            show=False, id="media.set_start"),
    Binding("right_curly_bracket", "set_time('end')", "Segment ends here (playback)",
            show=False, id="media.set_end"),
    Binding("ctrl+v", "video", "Video window", show=False, id="media.video"),
]


class PlaybackKeys(CoderScreen):
    """Listen while coding (mpv, started on the first key, ended with the screen)."""

    transcript_id: int
    _playback: Playback | None = None
    _media_timer: Any = None
    following = False
    _followed: int | None = None
    _status_base: Text | None = None
    _status_hint: Text | None = None
    _status_media: Text | None = None

    # -- the player ------------------------------------------------------------------------
    def playback(self, again: Callable[[], None] | None = None) -> Playback | None:
        """The playback of this transcript, ready to play; None when it is not (yet).

        Without mpv a notice says how to install it. The first time, mpv starts and loads
        the recording in a worker (the screen stays responsive), then calls ``again``.
        """
        from coder.media.mpv import INSTALL_HINT, mpv_available
        from coder.media.playback import Playback

        if not mpv_available():
            self.notify(INSTALL_HINT, severity="warning", timeout=8)
            return None
        if self._playback is None:
            self._playback = Playback(self.capp.store, self.capp.study.root)
        if self._playback.media is None or not self._playback.media.exists:
            self._playback.open(self.transcript_id)  # linked or moved since: look again
        playback, media = self._playback, self._playback.media
        if again is not None and media is not None and media.exists \
                and playback.player.loaded != media.path:
            self.media_done("starting the player…")
            self._load(playback, media.path, again)
            return None
        return playback

    @work(thread=True, exclusive=True, group="media")
    def _load(self, playback: Playback, path: Path, again: Callable[[], None]) -> None:
        playback.player.load(path)  # starts mpv; errors become a notification
        self.app.call_from_thread(again)

    def _run(self, action: Any, *args: Any) -> tuple[bool, Any]:
        """Call a playback method: errors become notifications; the ticker starts."""
        saved, result = self.capp.write(action, *args)
        if saved and self._media_timer is None:
            self._media_timer = self.set_interval(TICK, self._media_tick)
        self._media_tick()
        return saved, result

    def on_unmount(self) -> None:
        if self._playback is not None:
            self._playback.close()
            self._playback = None

    def media_commands(self) -> Iterable[SystemCommand]:
        """The command palette's entries for the recording."""
        yield SystemCommand("Play the current segment", "ctrl+space: from its start to its "
                            "end (needs mpv)", self.action_play_segment)
        yield SystemCommand("Play or pause the recording", "ctrl+l", self.action_play_pause)
        yield SystemCommand("Follow playback: " + ("on" if self.following else "off"),
                            "ctrl+g: the current segment moves with the recording",
                            self.action_follow)
        yield SystemCommand("Show the video", "ctrl+v: in its own window", self.action_video)

    # -- keys ------------------------------------------------------------------------------
    def action_play_segment(self) -> None:
        playback = self.playback(self.action_play_segment)
        view = self.query_one(TranscriptView)
        if playback is None or not view.segments:
            return
        playback.refresh()
        index = view.current
        saved, span = self._run(playback.play_segment, index)
        if saved:
            guess = " (times estimated)" if span.estimated else ""
            self._followed = index
            self.media_done(f"playing ¶{span.ordinal} {clock_exact(span.start)}–"
                            f"{clock_exact(span.end)}{guess}")

    def action_play_pause(self) -> None:
        playback = self.playback(self.action_play_pause)
        if playback is not None:
            saved, playing = self._run(playback.toggle)
            if saved:
                self.media_done("playing" if playing else "paused")

    def action_skip(self, direction: int) -> None:
        from coder.media.playback import SKIP_SECONDS

        playback = self.playback(partial(self.action_skip, direction))
        if playback is not None:
            self._run(playback.skip, direction * SKIP_SECONDS)

    def action_speed(self, step: int) -> None:
        playback = self.playback(partial(self.action_speed, step))
        if playback is not None:
            saved, speed = self._run(playback.speed, step)
            if saved:
                self.media_done(f"speed {speed:g}×")

    def action_video(self) -> None:
        playback = self.playback(self.action_video)
        if playback is not None:
            saved, shown = self._run(playback.show_video)
            if saved:
                self.media_done("video in its own window" if shown else "audio only")

    def action_follow(self) -> None:
        self.following = not self.following
        self._followed = None
        if self._playback is not None:
            self._playback.refresh()
        self.media_done("following playback" if self.following else "not following playback")

    def action_set_time(self, which: str) -> None:
        playback = self.playback()
        view = self.query_one(TranscriptView)
        if playback is None or not view.segments:
            return
        index = view.current
        playback.refresh()
        saved, seconds = self._run(playback.set_time, index, which)
        if not saved:
            return
        seg = view.segments[index]
        if which == "start":
            seg.time_start = seconds
            view.segment_changed(index)
        self.media_done(f"set the {which} of ¶{seg.ordinal} to {clock_exact(seconds)} "
                        "(u undoes)")

    def media_done(self, message: str) -> None:
        self.done(message, learn=False)  # type: ignore[attr-defined]

    # -- the status line and follow mode ---------------------------------------------------
    def media_status(self) -> Text:
        """`` · ▶ 00:00:03.2 / 00:00:08.0 · follow`` (empty before the first play)."""
        playback = self._playback
        if playback is None:
            return Text()
        try:
            status = playback.status()
        except Exception:  # a player that went away must not break the status line
            return Text()
        if not status:
            return Text()
        parts: list[Any] = [(f" {status}", "bold cyan")]
        if self.following:
            parts.append((" · follow", "cyan"))
        view = self.query_one(TranscriptView)
        spans = playback.spans
        if view.segments and view.current < len(spans) and spans[view.current].estimated:
            parts.append((f" · ¶{spans[view.current].ordinal} time estimated", "yellow"))
        return Text.assemble(" ·", *parts)

    def show_status(self, base: Text, hint: Text | None = None) -> None:
        """Show the screen's status: ``base``, the playback status, then ``hint``."""
        self._status_base, self._status_hint = base, hint or Text()
        self._status_media = self.media_status()
        self.query_one(StatusLine).text = Text.assemble(base, self._status_media,
                                                        self._status_hint)

    def _media_tick(self) -> None:
        playback = self._playback
        if playback is None:
            return
        if self.following:
            try:
                playback.refresh()  # cheap unless a time changed (set, undone, merged)
                index = playback.playing_index()
            except Exception:
                index = None
            view = self.query_one(TranscriptView)
            if index is not None and index != self._followed and index < len(view.segments):
                self._followed = index
                if index != view.current:
                    self.go(index)  # type: ignore[attr-defined]
                    return  # go() repainted the status line
        if self._status_base is not None and self.media_status() != self._status_media:
            self.show_status(self._status_base, self._status_hint)  # only when it changed
