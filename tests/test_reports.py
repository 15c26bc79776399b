"""Report tables and charts, checked by hand on the demo interview."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import run


@pytest.fixture
def coded(demo):
    # Segments of the demo interview: 1 Interviewer, 2 Jane Roe (teacher), 3 Interviewer,
    # 4 Jane Roe, 5 Mark Lee (principal).
    for segment, code in [(2, "need targeted PD"), (4, "islands of innovation"),
                          (4, "need targeted PD"), (5, "seat-time mandates"),
                          (5, "need targeted PD")]:
        result = run(demo, "code", "apply", "ephrata-interview", str(segment), code)
        assert result.exit_code == 0, result.output
    return demo


def _json(study, *args):
    result = run(study, "report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_frequencies(coded):
    rows = _json(coded, "frequencies")["rows"]
    assert rows == [
        {"code": "need targeted PD", "theme": "professional development", "segments": 3,
         "transcripts": 1, "speakers": 2},
        {"code": "islands of innovation", "theme": "professional development", "segments": 1,
         "transcripts": 1, "speakers": 1},
        {"code": "seat-time mandates", "theme": "school operations", "segments": 1,
         "transcripts": 1, "speakers": 1}]
    by_role = _json(coded, "frequencies", "--by", "role")["rows"]
    assert by_role[0] == {"code": "need targeted PD", "principal": 1, "teacher": 2, "total": 3}
    by_speaker = _json(coded, "frequencies", "--by", "speaker", "--where", "role=teacher")
    assert by_speaker["rows"][0] == {"code": "need targeted PD", "Dr. Jane Roe": 2, "total": 2}


def test_cooccurrence(coded):
    rows = _json(coded, "cooccurrence")["rows"]
    assert rows[0] == {"code": "need targeted PD", "need targeted PD": 3,
                       "islands of innovation": 1, "seat-time mandates": 1}
    assert rows[1]["seat-time mandates"] == 0


def test_matrix_has_counts_and_examples(coded):
    rows = _json(coded, "matrix", "--rows", "codes", "--cols", "role")["rows"]
    cell = rows[0]["teacher"]
    assert cell["count"] == 2
    assert cell["example"]["citation"].startswith("ephrata-interview ¶")
    assert rows[1]["principal"] == {"count": 0, "example": None}
    text = run(coded, "report", "matrix", "--cols", "role", "--format", "csv").output
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["code", "principal", "teacher"]
    assert table[3][1].startswith("1: “The state still counts seat time")


def test_markdown_table_and_charts(coded, tmp_path):
    result = run(coded, "report", "frequencies", "--format", "md", "--chart",
                 str(tmp_path / "f.png"))
    assert result.exit_code == 0, result.output
    assert "| need targeted PD | professional development | 3 | 1 | 2 |" in result.output
    result = run(coded, "report", "cooccurrence", "--chart", str(tmp_path / "c.png"))
    assert result.exit_code == 0, result.output
    assert "need targeted PD" in result.output
    for name in ("f.png", "c.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_report_options(coded):
    for args in (["matrix"], ["matrix", "--cols", "nope"], ["frequencies", "--by", "nope"],
                 ["frequencies", "--where", "x"], ["cooccurrence", "--codes", "nope"],
                 ["matrix", "--rows", "speakers", "--cols", "role"]):
        result = run(coded, "report", *args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if "rror" in line]) == 1, args
