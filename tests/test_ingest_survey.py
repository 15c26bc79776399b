"""Open-ended survey answers from CSV and Excel."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from coder.errors import InputError
from coder.ingest import parse_file

CSV = (
    "id,school,year,answer\r\n"
    "R-101,Northfield,9,The teachers listen.\r\n"
    'R-102,Hill Top,10,"Too much homework.\r\n\r\nAnd the canteen, honestly."\r\n'
    "R-103,Northfield,,   \r\n"
    ",Hill Top,11,Nothing to add\r\n"
)


def words(doc):
    return [doc.text[t.start : t.end] for t in doc.turns]


def test_csv_with_multiline_quoted_answer(tmp_path):
    path = tmp_path / "wellbeing.csv"
    path.write_bytes(CSV.encode("utf-8"))
    doc = parse_file(path, id_column="id")
    assert doc.format == "csv"
    assert [t.speaker for t in doc.turns] == ["R-101", "R-102", "wellbeing #4"]
    assert words(doc) == [
        "The teachers listen.",
        "Too much homework.\n\nAnd the canteen, honestly.",
        "Nothing to add",
    ]  # R-103's blank answer is skipped
    assert doc.speaker_attributes["R-101"] == {"school": "Northfield", "year": "9"}
    assert doc.speaker_attributes["wellbeing #4"] == {"school": "Hill Top", "year": "11"}
    assert doc.metadata == {
        "kind": "survey",
        "columns": ["id", "school", "year", "answer"],
        "rows": 4,
        "text_column": "answer",
        "id_column": "id",
        "rows_without_answer": [3],
    }
    assert all(t.time_start is None for t in doc.turns)


def test_semicolon_csv_in_cp1252_without_id_column(tmp_path):
    path = tmp_path / "Umfrage.CSV"
    path.write_bytes(
        b"Teilnehmer;Schule;Kommentar\r\n"
        b"1;Nord;\x93Zu viele Tests\x94 \x96 leider\r\n"
        b"2;S\xfcd;ok\r\n"
    )
    doc = parse_file(path, text_column="kommentar")  # case-insensitive match
    assert [t.speaker for t in doc.turns] == ["Umfrage #1", "Umfrage #2"]
    assert words(doc) == ["“Zu viele Tests” – leider", "ok"]
    assert doc.speaker_attributes["Umfrage #2"] == {"Teilnehmer": "2", "Schule": "Süd"}


def test_text_column_guessed_or_asked_for(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Response ID,Open response\n7,Fine.\n", encoding="utf-8")
    assert words(parse_file(path)) == ["Fine."]
    path.write_text("id,school,q1\n1,A,Fine.\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert "pass --text-column (columns: id, school, q1)" in err.value.reason


def test_missing_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,response,school\n1,Fine.,A\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_file(path, text_column="answer")
    assert err.value.reason == "no column named 'answer' (columns: id, response, school)"
    assert err.value.path == str(path)


def test_duplicate_header(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,answer,Answer\n1,a,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate column name 'Answer'"):
        parse_file(path)


def _workbook(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("Notes").append(["ignored", "sheet"])
    book.save(path)


def test_xlsx(tmp_path):
    path = tmp_path / "exit-survey.xlsx"
    _workbook(
        path,
        [
            ["Respondent", "Submitted", "Score", "What would you change?"],
            [501, dt.datetime(2024, 6, 1), 4.0, "More\nbreaks"],
            [502, dt.datetime(2024, 6, 2, 9, 30), 2.5, None],
            [None, None, None, None],
            [503, None, 3, "  Shorter days  "],
        ],
    )
    doc = parse_file(path, text_column="What would you change?", id_column="respondent")
    assert doc.format == "xlsx"
    assert [t.speaker for t in doc.turns] == ["501", "503"]
    assert words(doc) == ["More\nbreaks", "Shorter days"]
    assert doc.speaker_attributes == {
        "501": {"Submitted": "2024-06-01", "Score": "4"},
        "503": {"Score": "3"},
    }
    assert doc.metadata["rows"] == 3


def test_xlsx_without_named_column(tmp_path):
    path = tmp_path / "s.xlsx"
    _workbook(path, [["id", "comment"], [1, "fine"]])
    with pytest.raises(InputError) as err:
        parse_file(path, text_column="answer")
    assert err.value.reason == "no column named 'answer' (columns: id, comment)"


def test_corrupt_xlsx(tmp_path):
    path = tmp_path / "s.xlsx"
    path.write_bytes(b"id,answer\n1,this is really a csv\n")
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert str(err.value) == f"{path}: not an Excel .xlsx file"


def test_no_answers(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,answer\n1,\n2,  \n", encoding="utf-8")
    with pytest.raises(InputError, match="no answers in column 'answer'"):
        parse_file(path)
