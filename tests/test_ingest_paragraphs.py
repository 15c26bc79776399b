"""Splitting turns into paragraphs at blank lines."""

from __future__ import annotations

from coder.ingest.model import Turn
from coder.ingest.paragraphs import split_paragraphs
from coder.ingest.turns import parse_turn_text


def test_split_turns_into_paragraphs():
    text = (
        "[00:01:00] Amy: First point.  \n  \n\t\nSecond point,\nsame paragraph.\n\n"
        "Third.\nBen: One paragraph only.\n"
    )
    doc = parse_turn_text(text, name="x", fmt="txt")
    doc.turns[0].time_end = 90.0
    paras = split_paragraphs(doc.text, doc.turns)
    assert [(p.speaker, doc.text[p.start : p.end]) for p in paras] == [
        ("Amy", "First point."),
        ("Amy", "Second point,\nsame paragraph."),
        ("Amy", "Third."),
        ("Ben", "One paragraph only."),
    ]
    assert [(p.time_start, p.time_end) for p in paras] == [
        (60.0, None),
        (None, None),
        (None, 90.0),
        (None, None),
    ]


def test_turn_bounds_are_respected():
    text = "aaa\n\nbbb\n\nccc"
    paras = split_paragraphs(text, [Turn("A", 0, 7), Turn(None, 10, 13)])
    assert [text[p.start : p.end] for p in paras] == ["aaa", "bb", "ccc"]
