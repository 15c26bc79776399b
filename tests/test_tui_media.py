"""Listening while coding: the workbench's playback keys with real mpv, checked over its IPC
socket and in the database."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from coder.study import init_study
from coder.tui import CoderApp
from coder.tui.screens.coding import CodingScreen
from coder.tui.widgets.transcript_view import TranscriptView
from conftest import open_store
from test_media import VTT, run, write_tone

SIZE = (120, 40)
needs_mpv = pytest.mark.skipif(shutil.which("mpv") is None, reason="mpv is not installed")


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CODER_MPV_ARGS", "--ao=null --vo=null")
    root = tmp_path / "study"
    made = init_study(root)
    (root / "transcripts" / "talk.vtt").write_text(VTT, encoding="utf-8")
    write_tone(root / "transcripts" / "talk.wav")
    assert run(root, "import", str(root / "transcripts")).exit_code == 0
    return made


async def _open(pilot) -> CodingScreen:
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CodingScreen)
    return screen


async def _until(pilot, check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return check()


async def _started(pilot) -> None:
    """Wait for the worker that starts mpv and loads the recording on the first key (only
    it: the suggester trains meanwhile in workers of its own)."""
    media = [w for w in pilot.app.workers if w.group == "media"]
    await pilot.app.workers.wait_for_complete(media)
    await pilot.pause()


def _status(app) -> str:
    return str(app.screen.query_one("#status").render())


@needs_mpv
async def test_the_play_key_plays_the_segment_from_start_to_end(study):
    app = CoderApp(study.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.press("j", "ctrl+space")  # ¶2: 00:00:03.0 – 00:00:04.0
        await _started(pilot)
        player = screen._playback.player
        position = player.position
        assert position is not None and 3.0 <= position < 3.6 and not player.paused
        assert "playing ¶2 00:00:03.0–00:00:04.0" in _status(app)
        assert await _until(pilot, lambda: player.paused)
        assert player.position == pytest.approx(4.0, abs=0.15)
        await pilot.pause(TICK_WAIT)
        assert "⏸ 00:00:04" in _status(app)
        await pilot.press("ctrl+l")  # play on past the end
        assert not player.paused
        await pilot.press("ctrl+l", "minus")
        assert player.paused and player.speed == pytest.approx(0.85)
        await pilot.press("less_than_sign")
        assert player.position == pytest.approx(max(0.0, position + 1.0 - 5.0), abs=1.0)
    assert not player.running  # ended with the workbench


TICK_WAIT = 0.35


@needs_mpv
async def test_follow_moves_the_segment_and_braces_set_its_times(study):
    app = CoderApp(study.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        view = screen.query_one(TranscriptView)
        await pilot.press("ctrl+space")
        await _started(pilot)
        await pilot.press("ctrl+g")
        player = screen._playback.player
        player.play_range(5.3, 5.7)  # the recording moves on into ¶3
        assert await _until(pilot, lambda: view.current == 2)
        assert "follow" in _status(app)
        assert await _until(pilot, lambda: player.paused)
        position = player.position
        await pilot.press("left_curly_bracket")
        with open_store(study) as store:
            saved = store.scalar("SELECT time_start FROM segments WHERE ordinal = 3")
        assert saved == pytest.approx(position, abs=0.001) and saved != 5.0
        assert view.segments[2].time_start == saved
        player.play_range(6.0, 6.4)
        assert await _until(pilot, lambda: player.paused)
        await pilot.press("right_curly_bracket")
        with open_store(study) as store:
            assert store.scalar("SELECT time_end FROM segments WHERE ordinal = 3") == \
                pytest.approx(6.4, abs=0.15)
        await pilot.press("u", "u")  # both undone, through the event log
        with open_store(study) as store:
            assert store.rows("SELECT time_start, time_end FROM segments WHERE ordinal = 3") \
                == [{"time_start": 5.0, "time_end": 7.0}]
        assert view.segments[2].time_start == 5.0


async def test_without_mpv_the_key_says_how_to_install_it_and_coding_goes_on(
        study, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(study.root / "no-such-bin"))
    app = CoderApp(study.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.press("ctrl+space")
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert any("mpv is not installed" in n and "apt-get install mpv" in n for n in notices)
        assert screen._playback is None
        await pilot.press("ctrl+f", *"a-b<{}>+")  # typing a filter is not playing
        assert screen.query_one("#code-filter").value == "a-b<{}>+"
        await pilot.press("escape")  # clear it, back to the transcript (one Esc)
        assert screen.focused is screen.query_one(TranscriptView)
        await pilot.press("j", "space")
    with open_store(study) as store:
        assert store.scalar("SELECT count(*) FROM reviewed") >= 1


@needs_mpv
async def test_a_transcript_without_a_recording_says_how_to_link_one(study):
    (study.root / "transcripts" / "talk.wav").unlink()
    app = CoderApp(study.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.press("ctrl+space", "ctrl+l", "greater_than_sign")
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert any("coder media link talk FILE" in n for n in notices)
        assert not screen._playback.player.running  # mpv was not even started
