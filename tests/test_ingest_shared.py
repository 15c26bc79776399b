"""Real files from ../shared: podcast transcripts, blog posts, a report's text (skipped
when ../shared is absent)."""

from __future__ import annotations

import re

import pytest

from coder.importer import ImportOptions, read_document
from conftest import SHARED
from test_ingest_formats import RESIDUE

SEEDS = SHARED / "seeds"
PODCASTS = SHARED / "eval" / "changelog-dev" / "raw"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir() or not PODCASTS.is_dir(),
                                reason="../shared is not here")


@pytest.mark.parametrize(("name", "speakers"), [
    ("go-time-149.md", {"Mat Ryer", "Jon Calhoun", "Mark Bates", "Johnny Boursiquot"}),
    ("js-party-218.md", {"Jerod Santo", "Ali Spittel", "Jen Looper"}),
    ("the-changelog-176.md", {"Adam Stacoviak", "Jerod Santo", "Saron Yitbarek"}),
])
def test_changelog_transcripts_have_their_hosts_and_guests_and_no_markup(name, speakers):
    doc, segments, warnings = read_document(PODCASTS / name, ImportOptions())
    assert {s.speaker for s in segments} == speakers  # no "Break", no "Jingle"
    assert not [s.text for s in segments if RESIDUE.search(s.text)]
    assert any(s.time_start is not None for s in segments)  # \[03:54\] became a time
    assert warnings == []


@pytest.mark.parametrize("name", ["000_41071e85275368c2.txt", "003_196bdef2c2802669.txt",
                                  "004_952d2f9f27eb53ae.txt"])
def test_articles_about_people_are_not_dialogue(name):
    # "Photo Credit: …", "Raymond says that…", "Key Findings Overview:" are not turns
    doc, segments, _ = read_document(SEEDS / name, ImportOptions())
    assert {s.speaker for s in segments} == {None}
    assert len(segments) > 5  # paragraphs, not one block
    assert not [s.text for s in segments if re.search(r"\*\*", s.text)]


def test_an_nvivo_comment_dump_has_no_speakers(study):
    from conftest import run

    project = SHARED / "refi-qda" / "nvivo-win-12.6_oltas0517.qdpx"
    assert run(study, "import", str(project)).exit_code == 0
    import json

    rows = json.loads(run(study, "transcripts", "--format", "json").output)
    assert rows and all(r["speakers"] == 0 for r in rows)  # video titles are not speakers
