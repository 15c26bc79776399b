"""Recordings behind transcripts: finding them, the timeline, and playing them with real mpv."""

from __future__ import annotations

import json
import math
import shutil
import struct
import time
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from coder.cli import cli
from coder.media.find import FRONT_MATTER, LINKED, SAME_NAME, all_media, link_media
from coder.media.timeline import span_at, timeline
from coder.store.db import Store
from coder.store.history import undo
from coder.study import init_study

needs_mpv = pytest.mark.skipif(shutil.which("mpv") is None, reason="mpv is not installed")

VTT = """WEBVTT

00:00:01.000 --> 00:00:02.500
<v Ann>Hello and welcome to the interview.

00:00:03.000 --> 00:00:04.000
<v Bob>Thanks for having me here today.

00:00:05.000 --> 00:00:07.000
<v Ann>Tell me about your school.
"""


def write_tone(path: Path, seconds: float = 8.0, rate: int = 8000) -> Path:
    """A few seconds of a 440 Hz tone, as a real WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i
                                                                          / rate)))
                                 for i in range(int(seconds * rate))))
    return path


def run(study: Path, *args: str):
    return CliRunner().invoke(cli, ["--study", str(study), *args], catch_exceptions=False)


@pytest.fixture
def media_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODER_NAME", "ana")
    monkeypatch.setenv("CODER_MPV_ARGS", "--ao=null --vo=null")
    root = tmp_path / "study"
    init_study(root)
    (root / "transcripts" / "talk.vtt").write_text(VTT, encoding="utf-8")
    write_tone(root / "transcripts" / "talk.wav")
    assert run(root, "import", str(root / "transcripts")).exit_code == 0
    return root


def _store(root: Path) -> Store:
    return Store(root / "coder.db", coder="ana")


# -- the timeline ----------------------------------------------------------------------------
def _seg(i: int, start: int, end: int, t0: float | None, t1: float | None) -> dict:
    return {"id": i, "ordinal": i, "start": start, "end": end, "time_start": t0, "time_end": t1}


def test_timeline_keeps_real_times_and_interpolates_the_rest():
    spans = timeline([_seg(1, 0, 100, 10.0, 20.0), _seg(2, 100, 200, None, None),
                      _seg(3, 200, 300, 40.0, 50.0)])
    assert (spans[0].start, spans[0].end, spans[0].estimated) == (10.0, 20.0, False)
    assert (spans[1].start, spans[1].end, spans[1].estimated) == (20.0, 40.0, True)
    assert span_at(spans, 25.0) == 1 and span_at(spans, 5.0) is None


def test_a_start_label_ends_at_the_next_start_and_the_tail_uses_the_duration():
    spans = timeline([_seg(1, 0, 50, 0.0, None), _seg(2, 50, 100, 30.0, None),
                      _seg(3, 100, 150, None, None)], duration=90.0)
    assert (spans[0].start, spans[0].end, spans[0].estimated) == (0.0, 30.0, False)
    assert spans[1].start == 30.0 and spans[2].end == 90.0 and spans[2].estimated
    assert spans[1].end == pytest.approx(60.0)


def test_no_times_at_all_spreads_the_text_over_the_recording():
    spans = timeline([_seg(1, 0, 100, None, None), _seg(2, 100, 400, None, None)],
                     duration=40.0)
    assert [(s.start, s.end) for s in spans] == [(0.0, 10.0), (10.0, 40.0)]
    assert all(s.estimated for s in spans)


# -- finding and linking -----------------------------------------------------------------------
def test_same_name_front_matter_and_link_in_that_order(media_study: Path, tmp_path: Path):
    root = media_study
    (root / "transcripts" / "memo.md").write_text(
        "---\nmedia: ../recordings/memo.mp3\n---\nAnn: A note.\n", encoding="utf-8")
    assert run(root, "import", str(root / "transcripts" / "memo.md")).exit_code == 0
    outside = write_tone(tmp_path / "elsewhere.wav", 1)
    with _store(root) as store:
        found = {store.scalar("SELECT name FROM transcripts WHERE id = ?", (k,)): v
                 for k, v in all_media(store, root).items()}
        assert (found["talk"].stored, found["talk"].how) == ("transcripts/talk.wav", SAME_NAME)
        assert (found["memo"].stored, found["memo"].how, found["memo"].exists) == (
            "recordings/memo.mp3", FRONT_MATTER, False)
        linked = link_media(store, root, "memo", outside)
        assert linked is not None and linked.how == LINKED
        assert linked.stored == str(outside.resolve())  # outside the study: absolute
    listing = json.loads(run(root, "transcripts", "--format", "json").output)
    media = {r["name"]: (r["media"], r["media_exists"]) for r in listing}
    assert media == {"memo": (str(outside.resolve()), True), "talk": ("transcripts/talk.wav",
                                                                       True)}


def test_link_inside_the_study_is_relative_and_undoable(media_study: Path):
    root = media_study
    (root / "audio").mkdir()
    other = write_tone(root / "audio" / "take2.wav", 1)
    result = run(root, "media", "link", "talk", str(other))
    assert result.exit_code == 0, result.output
    assert "audio/take2.wav" in result.output
    with _store(root) as store:
        assert store.scalar("SELECT path FROM media_links") == "audio/take2.wav"
        done = undo(store, "ana")
        assert done is not None and "linked talk to audio/take2.wav" in done.summary
        assert store.scalar("SELECT count(*) FROM media_links") == 0
    table = run(root, "media", "list").output
    assert "transcripts/talk.wav" in table and "same name" in table


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("missing.wav", None, "no such file"),
    ("notes.txt", "hello", "not a recording coder knows"),
])
def test_bad_links_are_one_line_and_change_nothing(media_study: Path, name: str,
                                                    content: str | None, reason: str):
    root = media_study
    target = root / name
    if content is not None:
        target.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--study", str(root), "media", "link", "talk",
                                      str(target)])
    assert result.exit_code == 1
    assert reason in result.output and str(target) in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    with _store(root) as store:
        assert store.scalar("SELECT count(*) FROM media_links") == 0


def test_play_without_mpv_says_how_to_install_it(media_study: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(media_study / "no-such-bin"))
    result = CliRunner().invoke(cli, ["--study", str(media_study), "play", "talk", "1"])
    assert result.exit_code == 1
    assert "mpv is not installed" in result.output and "apt-get install mpv" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_play_a_transcript_without_a_recording_says_how_to_link_one(media_study: Path):
    (media_study / "transcripts" / "talk.wav").unlink()
    result = CliRunner().invoke(cli, ["--study", str(media_study), "play", "talk", "1"])
    assert result.exit_code == 1 and "coder media link talk FILE" in result.output


# -- real mpv ------------------------------------------------------------------------------
@needs_mpv
def test_playing_a_segment_starts_at_its_start_and_stops_at_its_end(media_study: Path):
    from coder.media.playback import Playback

    with _store(media_study) as store:
        playback = Playback(store, media_study)
        try:
            playback.open(store.scalar("SELECT id FROM transcripts"))
            span = playback.play_segment(1)  # ¶2: 00:00:03.0 – 00:00:04.0
            assert (span.start, span.end) == (3.0, 4.0)
            player = playback.player
            first = player.position
            assert first is not None and 3.0 <= first < 3.5
            assert not player.paused
            assert player.wait_paused(5.0)
            assert player.paused and player.position == pytest.approx(4.0, abs=0.15)
            time.sleep(0.3)  # it stays there
            assert player.position == pytest.approx(4.0, abs=0.15)
        finally:
            playback.close()
        assert not playback.player.running


@needs_mpv
def test_follow_and_setting_a_time_from_the_playback_position(media_study: Path):
    from coder.media.playback import Playback

    with _store(media_study) as store:
        playback = Playback(store, media_study)
        try:
            playback.open(store.scalar("SELECT id FROM transcripts"))
            playback.play_segment(0)
            assert playback.playing_index() == 0
            playback.player.play_range(5.2, 5.6)  # into ¶3
            assert playback.player.wait_paused(5.0)
            assert playback.playing_index() == 2
            position = playback.player.position
            written = playback.set_time(2, "start")
            assert written == pytest.approx(position, abs=0.001)
            assert store.scalar("SELECT time_start FROM segments WHERE ordinal = 3") == \
                pytest.approx(5.6, abs=0.15)
            assert playback.spans[2].start == pytest.approx(written)
            done = undo(store, "ana")
            assert done is not None and "set the start of talk ¶3" in done.summary
            assert store.scalar("SELECT time_start FROM segments WHERE ordinal = 3") == 5.0
        finally:
            playback.close()


@needs_mpv
def test_coder_play_plays_one_segment(media_study: Path):
    started = time.monotonic()
    result = run(media_study, "play", "talk", "1")
    assert result.exit_code == 0, result.output
    assert "Playing talk ¶1 00:00:01.0–00:00:02.5 from transcripts/talk.wav" in result.output
    # it returns once the 1.5 s have played, not as soon as they start (mpv's null audio
    # output drains its last half second at once)
    assert time.monotonic() - started >= 0.9


def test_a_recording_that_is_not_there_is_named(media_study: Path):
    (media_study / "transcripts" / "talk.wav").rename(media_study / "moved.wav")
    assert run(media_study, "media", "link", "talk", str(media_study / "moved.wav")
               ).exit_code == 0
    (media_study / "moved.wav").unlink()
    listing = json.loads(run(media_study, "transcripts", "--format", "json").output)
    assert (listing[0]["media"], listing[0]["media_exists"]) == ("moved.wav", False)
    assert "moved.wav (missing)" in run(media_study, "transcripts").output
    result = CliRunner().invoke(cli, ["--study", str(media_study), "play", "talk", "1"])
    assert result.exit_code == 1 and "moved.wav: the recording is not there" in result.output


@needs_mpv
def test_video_opens_its_own_window_on_request(media_study: Path):
    from coder.media.playback import Playback

    with _store(media_study) as store:
        playback = Playback(store, media_study)
        try:
            playback.open(store.scalar("SELECT id FROM transcripts"))
            playback.play_segment(0)
            assert playback.player.get("vid") in (False, "no")  # audio only by default
            assert playback.show_video() is True
            assert playback.player.get("force-window") in (True, "yes")
            assert playback.show_video() is False
        finally:
            playback.close()


def test_a_time_set_from_playback_undoes_and_redoes(media_study: Path):
    from coder.store.history import redo
    from coder.store.media import set_segment_time

    with _store(media_study) as store:
        seg = store.scalar("SELECT id FROM segments WHERE ordinal = 2")
        with store.transaction("set time"):
            assert set_segment_time(store, seg, "end", 4.321)
        assert undo(store, "ana") is not None
        assert store.scalar("SELECT time_end FROM segments WHERE id = ?", (seg,)) == 4.0
        done = redo(store, "ana")
        assert done is not None and "set the end of talk ¶2 to 00:00:04.3" in done.summary
        assert store.scalar("SELECT time_end FROM segments WHERE id = ?", (seg,)) == 4.321


def test_a_link_with_control_characters_is_refused(media_study: Path):
    weird = media_study / "a\nb.wav"
    write_tone(weird, 1)
    result = CliRunner().invoke(cli, ["--study", str(media_study), "media", "link", "talk",
                                      str(weird)])
    assert result.exit_code == 1 and "control characters" in result.output
    assert len(result.output.strip().splitlines()) == 1


@needs_mpv
def test_segments_without_times_play_an_estimate_and_say_so(media_study: Path):
    root = media_study
    (root / "transcripts" / "notes.md").write_text(
        "Ann: " + "a" * 40 + "\n\nBob: " + "b" * 40 + "\n", encoding="utf-8")
    write_tone(root / "transcripts" / "notes.wav", 4)
    assert run(root, "import", str(root / "transcripts" / "notes.md")).exit_code == 0
    result = run(root, "play", "notes", "2")
    assert result.exit_code == 0, result.output
    assert "(times estimated between timed segments)" in result.output
    assert "–00:00:04.0" in result.output  # the last segment ends with the recording




@needs_mpv
def test_a_file_mpv_cannot_read_is_one_line_and_mpv_ends(media_study: Path):
    bad = media_study / "transcripts" / "talk.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--study", str(media_study), "play", "talk", "1"])
    assert result.exit_code == 1, result.output
    assert "talk.wav: mpv could not play it" in result.output
    assert len(result.output.strip().splitlines()) == 1
