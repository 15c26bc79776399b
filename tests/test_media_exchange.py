"""Media links through REFI-QDA (AudioSource/VideoSource with sync points) and coder merge."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from coder.study import init_study
from conftest import SHARED, requires_shared
from test_media import VTT, run, write_tone

NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture
def media_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODER_NAME", "ana")
    root = tmp_path / "study"
    init_study(root)
    (root / "transcripts" / "talk.vtt").write_text(VTT, encoding="utf-8")
    write_tone(root / "transcripts" / "talk.wav", 8)
    assert run(root, "import", str(root / "transcripts")).exit_code == 0
    return root


def _times(root: Path, name: str = "talk") -> list[tuple[float | None, float | None]]:
    rows = json.loads(run(root, "segments", name, "--format", "json").output)
    return [(r["time_start"], r["time_end"]) for r in rows]


def _media(root: Path) -> dict[str, tuple[str | None, bool | None]]:
    rows = json.loads(run(root, "media", "list", "--format", "json").output)
    return {r["name"]: (r["media"], r["media_exists"]) for r in rows}


def test_export_writes_an_audio_source_with_sync_points(media_study: Path, tmp_path: Path):
    from lxml import etree

    out = tmp_path / "p.qdpx"
    assert run(media_study, "export", "qdpx", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    text = root.find("q:Sources/q:TextSource", NS)
    audio = root.find("q:Sources/q:AudioSource", NS)
    assert audio is not None and audio.get("name") == "talk.wav"
    assert audio.get("path") == "absolute://" + (media_study / "transcripts" /
                                                 "talk.wav").resolve().as_posix()
    transcript = audio.find("q:Transcript", NS)
    assert transcript.get("plainTextPath") == text.get("plainTextPath")
    stamps = [int(p.get("timeStamp")) for p in transcript.findall("q:SyncPoint", NS)]
    assert stamps == [1000, 2500, 3000, 4000, 5000, 7000]
    if SHARED.is_dir():
        schema = etree.XMLSchema(etree.parse(str(SHARED / "refi-qda" / "Project.xsd")))
        schema.assertValid(root)


def test_round_trip_keeps_the_link_and_the_times(media_study: Path, tmp_path: Path):
    out = tmp_path / "p.qdpx"
    assert run(media_study, "export", "qdpx", str(out)).exit_code == 0
    other = tmp_path / "other"
    init_study(other)
    result = run(other, "import", str(out))
    assert result.exit_code == 0, result.output
    assert "linked to" in result.output and "6 segment time(s) from its sync points" in \
        result.output
    assert _media(other) == {"talk": (str((media_study / "transcripts" / "talk.wav")
                                          .resolve()), True)}
    assert _times(other) == _times(media_study) == [(1.0, 2.5), (3.0, 4.0), (5.0, 7.0)]


def _foreign_project(tmp_path: Path, path: str) -> Path:
    """An ATLAS.ti-style project: a video whose transcript is not a text source."""
    text = "Ann: We start here.\nBob: Then I answer.\nAnn: And a last word.\n"
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="ATLAS.ti 8.4">
  <Sources>
    <VideoSource guid="9D260347-8F7D-4161-89F7-DCC93CC34170" name="clip.mp4" path="{path}">
      <Transcript guid="0EBF03C4-768D-4937-B37E-58341FDA4CDB" name="clip - Audio.docx"
                  plainTextPath="internal://01106019-2518-43DD-BBD1-8F0252BACB30.txt">
        <SyncPoint guid="BC57B3AA-64E1-4974-AC92-646A4F822070" position="0" timeStamp="0"/>
        <SyncPoint guid="5BDDBA5C-54F3-4AEE-B9ED-3B80486517AD" position="20" timeStamp="2000"/>
        <SyncPoint guid="7133B896-1D41-4610-85AF-8482011953D3" position="40" timeStamp="4500"/>
        <SyncPoint guid="7133B896-1D41-4610-85AF-8482011953D4" position="{len(text)}"
                   timeStamp="9000"/>
      </Transcript>
    </VideoSource>
  </Sources>
</Project>"""
    out = tmp_path / "atlas.qdpx"
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/01106019-2518-43DD-BBD1-8F0252BACB30.txt", text)
    return out


def test_a_transcribed_video_from_another_tool_comes_in_linked_and_timed(tmp_path: Path):
    project = _foreign_project(tmp_path, "relative:///clip.mp4")
    (tmp_path / "clip.mp4").write_bytes(b"not really a video")
    study = tmp_path / "study"
    init_study(study)
    result = run(study, "import", str(project))
    assert result.exit_code == 0, result.output
    assert _media(study) == {"clip - Audio": (str((tmp_path / "clip.mp4").resolve()), True)}
    times = _times(study, "clip - Audio")
    assert len(times) == 3 and times[0][0] == pytest.approx(0.25, abs=0.5)
    assert times[1][0] == pytest.approx(2.0, abs=0.3) and times[2][1] == pytest.approx(9.0,
                                                                                     abs=0.3)


def test_a_recording_inside_the_archive_is_reported_not_copied(tmp_path: Path):
    project = _foreign_project(tmp_path, "internal://abc.mp4")
    study = tmp_path / "study"
    init_study(study)
    result = run(study, "import", str(project))
    assert result.exit_code == 0, result.output
    assert "inside the archive" in result.output and "coder media link" in result.output
    assert _media(study) == {"clip - Audio": (None, None)}


@requires_shared
def test_atlas_ti_sample_still_imports(tmp_path: Path):
    study = tmp_path / "study"
    init_study(study)
    result = run(study, "import", str(SHARED / "refi-qda" /
                                      "atlasti-8.4-mac_refi-standard-project.qde"))
    assert result.exit_code == 0, result.output
    assert "no transcript (coder imports transcribed recordings)" in result.output


def test_merge_brings_the_other_copys_links(media_study: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    init_study(copy)
    (copy / "transcripts" / "talk.vtt").write_text(VTT, encoding="utf-8")
    assert run(copy, "import", str(copy / "transcripts")).exit_code == 0
    (media_study / "rec").mkdir()
    write_tone(media_study / "rec" / "take.wav", 1)
    assert run(media_study, "media", "link", "talk", str(media_study / "rec" /
                                                         "take.wav")).exit_code == 0
    result = run(copy, "merge", str(media_study))
    assert result.exit_code == 0 and "1 recording link" in result.output, result.output
    assert _media(copy) == {"talk": (str((media_study / "rec" / "take.wav").resolve()), True)}
    # the same relative file in this copy: the link stays relative
    (copy / "rec").mkdir()
    write_tone(copy / "rec" / "take.wav", 1)
    assert run(copy, "media", "unlink", "talk").exit_code == 0
    assert run(copy, "merge", str(media_study)).exit_code == 0
    assert _media(copy) == {"talk": ("rec/take.wav", True)}
    assert "Nothing new" in run(copy, "merge", str(media_study)).output


@pytest.mark.parametrize(("path", "reason"), [
    ("absolute:///tmp/a&#10;b.wav", "control characters"),
    ("absolute:///tmp/list.m3u", "not a recording coder knows"),
    ("", "it has no path"),
])
def test_hostile_recording_paths_are_not_linked(tmp_path: Path, path: str, reason: str):
    project = _foreign_project(tmp_path, path)
    study = tmp_path / "study"
    init_study(study)
    result = run(study, "import", str(project))
    assert result.exit_code == 0, result.output
    assert reason in result.output and "not linked" in result.output
    assert _media(study) == {"clip - Audio": (None, None)}


def _set_time(root: Path, ordinal: int, which: str, seconds: float) -> None:
    from coder.store.db import Store
    from coder.store.media import set_segment_time

    with Store(root / "coder.db", coder="ana") as store:
        seg = store.scalar("SELECT id FROM segments WHERE ordinal = ?", (ordinal,))
        with store.transaction("set time"):
            set_segment_time(store, seg, which, seconds)


def test_merge_brings_times_set_from_playback_and_keeps_ours(media_study: Path,
                                                             tmp_path: Path):
    copy = tmp_path / "copy"
    init_study(copy)
    (copy / "transcripts" / "talk.vtt").write_text(VTT, encoding="utf-8")
    assert run(copy, "import", str(copy / "transcripts")).exit_code == 0
    _set_time(media_study, 2, "end", 4.25)  # fixed there
    _set_time(media_study, 3, "start", 5.5)
    _set_time(copy, 3, "start", 5.25)  # fixed here too, differently
    result = run(copy, "merge", str(media_study))
    assert result.exit_code == 0 and "1 segment time" in result.output, result.output
    assert "talk ¶3: its start time was set here (5.25) and there (5.5); kept this one" in \
        result.output
    assert _times(copy) == [(1.0, 2.5), (3.0, 4.25), (5.25, 7.0)]
    assert "Nothing new" in run(copy, "merge", str(media_study)).output
