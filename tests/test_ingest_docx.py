"""Word transcripts made with python-docx."""

from __future__ import annotations

import datetime as dt

import docx
import pytest

from coder.errors import InputError
from coder.ingest import parse_file


def words(doc):
    return [doc.text[t.start : t.end] for t in doc.turns]


def test_word_transcript(tmp_path):
    word = docx.Document()
    word.add_heading("Focus group 2 – Parents", level=1)
    word.add_paragraph("Moderator: Welcome, everyone.")
    word.add_paragraph("")
    para = word.add_paragraph()
    para.add_run("P1: ").bold = True
    para.add_run("I'll start. The bus is the problem.")
    word.add_paragraph("It never comes on time.")
    word.add_paragraph("P2 [00:04:10]: Same for us.")
    word.add_paragraph("P1:")  # label alone; words in the next paragraph
    word.add_paragraph("And the fares went up.")
    table = word.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "P9: text in a table is not imported"
    word.core_properties.title = "FG2 Parents"
    word.core_properties.author = "R. Okafor"
    word.core_properties.created = dt.datetime(2024, 5, 1, 10, 0)
    path = tmp_path / "fg2.docx"
    word.save(path)

    doc = parse_file(path)
    assert doc.format == "docx"
    assert doc.name == "fg2"
    assert [t.speaker for t in doc.turns] == [None, "Moderator", "P1", "P2", "P1"]
    assert words(doc) == [
        "Focus group 2 – Parents",
        "Welcome, everyone.",
        "I'll start. The bus is the problem.\n\nIt never comes on time.",
        "Same for us.",
        "And the fares went up.",
    ]
    assert doc.turns[3].time_start == 250.0
    assert "table" not in doc.text
    assert doc.metadata == {
        "title": "FG2 Parents",
        "author": "R. Okafor",
        "created": "2024-05-01T10:00:00+00:00",
    }


def test_tables_only(tmp_path):
    word = docx.Document()
    word.add_table(rows=1, cols=2).cell(0, 0).text = "Interviewer"
    path = tmp_path / "table.docx"
    word.save(path)
    with pytest.raises(InputError, match="text inside tables is not imported"):
        parse_file(path)


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04 definitely not a zip", b"Interviewer: a text file renamed .docx\n"]
)
def test_not_a_docx(tmp_path, data):
    path = tmp_path / "broken.docx"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert str(err.value) == f"{path}: not a Word .docx file"
