"""Plain-text and Markdown transcripts: labels, front matter, offsets."""

from __future__ import annotations

import json

import pytest

from coder.errors import InputError
from coder.ingest import parse_file
from coder.ingest.turns import match_label, parse_timestamp, parse_turn_text


def words(doc):
    return [doc.text[t.start : t.end] for t in doc.turns]


MARKDOWN = """\
---
title: Ward 7 interview
date: 2024-03-05
participants: [Dr. Amy Chen, Łukasz]
site:
  name: St Mary's
  recorded: 2024-03-05 14:30:00
---
# Interview 4 (anonymised)

Dr. Amy Chen: Thanks for coming in.
Can you start with your shift pattern?

[00:12:03] Łukasz: Nights, mostly.

Four on, four off.
[00:13:10.5] Łukasz: Sorry – I mean **three** on.
**Dr. Amy Chen:** The three reasons you gave were: pay, hours and the team?
Note: participant laughs.
Mary-Jane O'Neil (00:15:00): I'd add the commute. See https://example.org/a:b
"""


def test_markdown_with_front_matter(tmp_path):
    path = tmp_path / "Ward 7 – Interview 4.MD"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = parse_file(path)
    assert doc.name == "Ward 7 – Interview 4"
    assert doc.format == "md"
    assert doc.metadata["title"] == "Ward 7 interview"
    assert doc.metadata["date"] == "2024-03-05"
    assert doc.metadata["site"]["recorded"] == "2024-03-05T14:30:00"
    json.dumps(doc.metadata)  # stored as JSON
    assert doc.text.startswith("Interview 4")  # Markdown heading marks are dropped
    assert [t.speaker for t in doc.turns] == [
        None,
        "Dr. Amy Chen",
        "Łukasz",
        "Łukasz",  # same speaker again: still a new turn
        "Dr. Amy Chen",
        "Mary-Jane O'Neil",
    ]
    assert words(doc) == [
        "Interview 4 (anonymised)",
        "Thanks for coming in.\nCan you start with your shift pattern?",
        "Nights, mostly.\n\nFour on, four off.",
        "Sorry – I mean three on.",  # emphasis is markup, not words
        "The three reasons you gave were: pay, hours and the team?\nNote: participant laughs.",
        "I'd add the commute. See https://example.org/a:b",
    ]
    assert [t.time_start for t in doc.turns] == [None, None, 723.0, 790.5, None, 900.0]
    assert all(t.time_end is None for t in doc.turns)


def test_interview_with_i_and_r_labels():
    text = (
        "Interview 12, 3 May\n\nI: So how did it start?\nR: Well. It was 10:30 at night\n"
        "and I was on my own.\n\nI:\nAnd then?\nR: I rang my sister.\nR: Sorry, my mum.\nI:\n"
    )
    doc = parse_turn_text(text, name="int12", fmt="txt")
    assert [t.speaker for t in doc.turns] == [None, "I", "R", "I", "R", "R"]
    assert words(doc) == [
        "Interview 12, 3 May",
        "So how did it start?",
        "Well. It was 10:30 at night\nand I was on my own.",
        "And then?",
        "I rang my sister.",
        "Sorry, my mum.",
    ]  # the trailing "I:" with no words is dropped


def test_otter_txt_name_and_time_on_own_line(tmp_path):
    otter = (
        "Speaker 1  0:03\nSo tell me about the allotment.\n\n"
        "Zoë Ferreira  0:09\nIt started in lockdown.\nWe had nothing else.\n\n"
        "Speaker 1  1:02:03\nRight.\n\nTranscribed by https://otter.ai\n"
    )
    path = tmp_path / "allotment.txt"
    path.write_text(otter, encoding="utf-8")
    doc = parse_file(path)
    assert [(t.speaker, t.time_start) for t in doc.turns] == [
        ("Speaker 1", 3.0),
        ("Zoë Ferreira", 9.0),
        ("Speaker 1", 3723.0),
    ]
    assert words(doc)[1] == "It started in lockdown.\nWe had nothing else."


@pytest.mark.parametrize(
    ("line", "speaker", "time"),
    [
        ("Name: hi", "Name", None),
        ("NAME: hi", "NAME", None),
        ("Dr. Name Surname: hi", "Dr. Name Surname", None),
        ("Prof. Anna-Lena de la Cruz: hi", "Prof. Anna-Lena de la Cruz", None),
        ("[00:12:03] Name: hi", "Name", 723.0),
        ("(00:12:03) Name: hi", "Name", 723.0),
        ("Name (00:12:03): hi", "Name", 723.0),
        ("Name [12:03,250]: hi", "Name", 723.25),
        ("00:12:03 Name: hi", "Name", 723.0),
        ("Name: [1:00:00] hi", "Name", 3600.0),
        ("P3: hi", "P3", None),
        ("Participant 12: hi", "Participant 12", None),
        ("Speaker 1: hi", "Speaker 1", None),
        ("interviewer: hi", "interviewer", None),
        ("**Name:** hi", "Name", None),
        ("**Name**: hi", "Name", None),
        ("  José:  hola", "José", None),
        ("张伟：你好", "张伟", None),
    ],
)
def test_labels(line, speaker, time):
    label = match_label(line)
    assert label is not None
    assert (label.speaker, label.time) == (speaker, time)
    assert line[label.end :].strip() in {"hi", "hola", "你好"}


@pytest.mark.parametrize(
    "line",
    [
        "https://example.com/page",
        "10:30 we met again",
        "The three reasons were: pay, hours, team",
        "And then Mum said: go to bed",
        "Note: inaudible",
        "NB: names changed",
        "Date: 5 March",
        "Interview Notes: second visit",
        "Question 4: what next?",
        "Chapter 3: Findings",
        "Name:no-space",
        "van Berg: lower-case start",
        "A Very Long Label With Too Many Words: x",
        "Xxxxxxxxxxxxxxxxxxxx Yyyyyyyyyyyyyyyyyyyyyyyy: x",
    ],
)
def test_not_labels(line):
    assert match_label(line) is None


def test_no_labels_is_one_speakerless_turn():
    doc = parse_turn_text("\n\n  My field notes.\n\nSecond para.  \n", name="n", fmt="txt")
    assert [(t.speaker, words(doc)[0]) for t in doc.turns] == [
        (None, "My field notes.\n\nSecond para.")
    ]


def test_timestamps():
    assert parse_timestamp("05:07") == 307.0
    assert parse_timestamp("1:02:03.5") == 3723.5
    assert parse_timestamp("00:00:01,250") == 1.25


def test_front_matter_not_a_mapping():
    with pytest.raises(InputError, match="front matter is not a mapping"):
        parse_turn_text("---\n- a\n- b\n---\nI: hi\n", name="x", fmt="md")


def test_front_matter_bad_yaml_names_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: ok\nsite: [unclosed\n---\nI: hi\n", encoding="utf-8")
    with pytest.raises(InputError, match="front matter is not valid YAML") as err:
        parse_file(path)
    assert err.value.path == str(path)
    assert err.value.line == 3  # the line with the unclosed bracket


def test_horizontal_rule_is_not_front_matter():
    doc = parse_turn_text("---\nI: hi\nR: hello\n", name="x", fmt="md")
    assert doc.metadata == {}
    assert [t.speaker for t in doc.turns] == [None, "I", "R"]


def test_only_front_matter(tmp_path):
    path = tmp_path / "stub.md"
    path.write_text("---\ntitle: to do\n---\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="no transcript text"):
        parse_file(path)


def test_score_inside_paragraph_is_not_an_otter_heading():
    text = "Ann  0:01\nWe watched the match, it ended\nArsenal 2:10\nor so I think.\n"
    doc = parse_turn_text(text, name="x", fmt="txt")
    assert [t.speaker for t in doc.turns] == ["Ann"]
    assert words(doc) == ["We watched the match, it ended\nArsenal 2:10\nor so I think."]


def test_every_labelled_paragraph_stays_one_segment_even_when_it_is_non_speech(tmp_path):
    """A turn of only a laugh keeps its speaker; a `Break:` line is its own speakerless
    segment with its time; nothing is dropped or glued, so the file's turns and the
    segments stay one to one (codings keyed by turn number land where they belong)."""
    from coder.importer import ImportOptions, read_document

    path = tmp_path / "episode.txt"
    path.write_text("Mat: Welcome to the show.\n\nJon: \\[laughs\\]\n\nMat: So, teaching.\n\n"
                    "Break: \\[22:03\\]\n\nJon: \\[unintelligible 00:40:13.11\\]\n\n"
                    "Mat: We are back. [music]\n", encoding="utf-8")
    _doc, segments, _warnings = read_document(path, ImportOptions())
    assert [(s.speaker, s.text) for s in segments] == [
        ("Mat", "Welcome to the show."), ("Jon", "[laughs]"), ("Mat", "So, teaching."),
        (None, "[Break]"), ("Jon", "[unintelligible 00:40:13.11]"),
        ("Mat", "We are back. [music]")]
    assert segments[3].time_start == 22 * 60 + 3
