"""The quote bank: selection, trimming, citations and every output format."""

from __future__ import annotations

import json

import pytest

from coder.quotes import ELLIPSIS, Options, build_bank, sentence_spans, trim
from conftest import open_store, run

NEAR = "We need targeted PD for our teachers, targeted PD on personalized learning right now."
TRANSCRIPT_A = f"""\
Ana: {NEAR}

Ana: {NEAR[:-1]}!

Bo: Coaching in classrooms helped us, and we also need targeted PD time with those coaches.

Bo: =HYPERLINK("http://evil.example","click") is what the flyer said about targeted PD.

Cy: <script>alert(1)</script> was pasted into the chat, next to a note on targeted PD.
"""
TRANSCRIPT_B = """\
Dee: Our teachers asked for targeted PD about data and grouping in personalized classrooms.
"""
LONG = ("The first year was hard for everyone in the building. We had no shared planning "
        "time at all. The state still counts seat time, so our schedule cannot move. "
        "People were tired by the spring. Parents asked many questions at every meeting.")


@pytest.fixture
def bank_study(demo):
    (demo.transcripts_dir / "a.md").write_text(TRANSCRIPT_A, encoding="utf-8")
    (demo.transcripts_dir / "b.md").write_text(TRANSCRIPT_B, encoding="utf-8")
    (demo.transcripts_dir / "c.md").write_text(f"Eve: {LONG}\n", encoding="utf-8")
    (demo.transcripts_dir / "speakers.csv").write_text(
        "speaker,role,site\nDr. Jane Roe,teacher,Ephrata Area\nMark Lee,principal,Ephrata Area\n"
        "Interviewer,interviewer,\nAna,teacher,North\nBo,coach,North\nDee,teacher,South\n"
        "Eve,principal,South\n", encoding="utf-8")
    assert run(demo, "sync").exit_code == 0
    for transcript, segment, code in [("a", 1, "need targeted PD"), ("a", 2, "need targeted PD"),
                                      ("a", 3, "need targeted PD"), ("a", 4, "need targeted PD"),
                                      ("a", 5, "need targeted PD"), ("b", 1, "need targeted PD"),
                                      ("c", 1, "seat-time mandates")]:
        result = run(demo, "code", "apply", transcript, str(segment), code)
        assert result.exit_code == 0, result.output
    return demo


def _bank(study, **kwargs):
    options = kwargs.pop("options", Options())
    with open_store(study) as store:
        return build_bank(store, study="t", coder="tester", options=options, **kwargs)


def test_selection_is_diverse_and_deterministic(bank_study):
    bank = _bank(bank_study, codes=["need targeted PD"], options=Options(per_code=3))
    (code,) = bank.codes
    picked = [(q.transcript, q.segment) for q in code.quotes]
    assert len(picked) == 3
    assert not {("a", 1), ("a", 2)} <= set(picked)  # near-duplicates: only one of them
    assert ("b", 1) in picked  # the other transcript is represented
    assert [q.rank for q in code.quotes] == [1, 2, 3]
    again = _bank(bank_study, codes=["need targeted PD"], options=Options(per_code=3))
    assert [q.to_json() for q in again.codes[0].quotes] == [q.to_json() for q in code.quotes]
    assert (code.segments, code.transcripts, code.speakers) == (6, 2, 4)


def test_every_quote_is_a_verbatim_coded_segment(bank_study):
    bank = _bank(bank_study, options=Options(all=True))
    with open_store(bank_study) as store:
        coded = {(r["transcript"], r["segment"], r["code"]): r["text"] for r in store.rows(
            "SELECT t.name AS transcript, s.ordinal AS segment, c.name AS code, s.text "
            "FROM codings g JOIN segments s ON s.id = g.segment_id JOIN transcripts t ON "
            "t.id = s.transcript_id JOIN codes c ON c.id = g.code_id WHERE g.coder = 'tester'")}
    quotes = [q for c in bank.codes for q in c.quotes]
    assert len(quotes) == len(coded)  # --all: every coded segment
    for q in quotes:
        assert q.text in coded[(q.transcript, q.segment, q.code)]


def test_long_turns_are_trimmed_to_the_sentences_that_carry_the_code(bank_study):
    bank = _bank(bank_study, codes=["seat-time mandates"],
                 options=Options(min_chars=20, max_chars=80))
    quote = bank.codes[0].quotes[0]
    assert quote.trimmed
    assert "seat time" in quote.text  # the sentence the codebook pattern matches
    assert quote.text.startswith(ELLIPSIS) and quote.text.endswith(ELLIPSIS)
    for piece in quote.text.split(ELLIPSIS):
        assert piece.strip() in LONG


def test_trim_keeps_words_and_order():
    text = "One two. Three four. Five six."
    spans = [(0, 8), (9, 20), (21, 30)]
    assert trim(text, spans, [2, 0], 20) == (f"One two. {ELLIPSIS} Five six.", True)
    assert trim(text, spans, [0, 1, 2], 100) == (text, False)


def test_sentences_come_from_stored_tokens(bank_study):
    with open_store(bank_study) as store:
        row = store.one("SELECT s.text, s.lemmas, s.tokens FROM segments s JOIN transcripts t "
                        "ON t.id = s.transcript_id WHERE t.name = 'c'")
    spans = sentence_spans(row["text"], row["lemmas"], row["tokens"])
    assert [row["text"][a:b] for a, b, _ in spans][:2] == [
        "The first year was hard for everyone in the building.",
        "We had no shared planning time at all."]


def test_citation_and_where(bank_study):
    run(bank_study, "code", "apply", "ephrata-interview", "4", "islands of innovation")
    bank = _bank(bank_study, codes=["islands of innovation"])
    quote = bank.codes[0].quotes[0]
    assert quote.citation == "ephrata-interview ¶4, Dr. Jane Roe (teacher, Ephrata Area), 00:12:03"
    assert quote.id == "ephrata-interview#4"
    teachers = _bank(bank_study, codes=["need targeted PD"], where=["role=teacher"],
                     options=Options(all=True))
    assert {q.speaker for q in teachers.codes[0].quotes} == {"Ana", "Dee"}
    either = _bank(bank_study, codes=["need targeted PD"],
                   where=["role=teacher", "role=coach", "site=North"], options=Options(all=True))
    assert {q.speaker for q in either.codes[0].quotes} == {"Ana", "Bo"}


def test_theme_filter_and_codebook_order(bank_study):
    bank = _bank(bank_study)
    assert [c.code for c in bank.codes] == ["need targeted PD", "seat-time mandates"]
    assert [c.theme for c in bank.codes] == ["professional development", "school operations"]
    assert bank.codes[0].parent == "professional development"
    assert bank.codes[0].definition.startswith("Teachers ask")
    only = _bank(bank_study, theme="school operations")
    assert [c.code for c in only.codes] == ["seat-time mandates"]


def test_consensus_is_the_default_coder(bank_study):
    result = run(bank_study, "quotes", "--format", "json", "--out", "-")
    assert json.loads(result.output)["coder"] == "tester"
    run(bank_study, "code", "apply", "b", "1", "need targeted PD", coder="consensus")
    data = json.loads(run(bank_study, "quotes", "--format", "json", "--out", "-").output)
    assert data["coder"] == "consensus"
    assert [(q["transcript"], q["segment"]) for c in data["codes"] for q in c["quotes"]] == [
        ("b", 1)]
    mine = json.loads(run(bank_study, "quotes", "--format", "json", "--out", "-",
                          coder="tester").output)
    assert mine["coder"] == "tester"


def test_json_keys(bank_study):
    result = run(bank_study, "quotes", "--format", "json", "--per-code", "2", "--memos")
    assert result.exit_code == 0, result.output
    path = bank_study.exports_dir / "quotes-tester.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    first = data["codes"][0]
    assert {"code", "theme", "parent", "definition", "segments", "transcripts", "speakers",
            "memos", "quotes"} <= set(first)
    assert len(first["quotes"]) == 2
    assert {"code", "rank", "transcript", "segment", "speaker", "text", "citation"} <= set(
        first["quotes"][0])


def test_markdown_and_html(bank_study):
    assert run(bank_study, "quotes", "--all").exit_code == 0
    md = (bank_study.exports_dir / "quotes-tester.md").read_text(encoding="utf-8")
    assert "## professional development" in md and "### need targeted PD" in md
    assert "> — b ¶1, Dee (teacher, South)" in md
    out = bank_study.root / "bank.html"
    assert run(bank_study, "quotes", "--all", "--format", "html", "--out", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<style>" in html and "<link" not in html


def test_docx_opens_with_python_docx(bank_study):
    from docx import Document

    out = bank_study.root / "bank.docx"
    assert run(bank_study, "quotes", "--format", "docx", "--out", str(out)).exit_code == 0
    doc = Document(str(out))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(
        "Heading")]
    assert ("Heading 1", "professional development") in headings
    assert ("Heading 2", "need targeted PD") in headings
    quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    assert len(quotes) == 4  # 3 + 1
    assert any(p.text.startswith("— b ¶1, Dee") for p in doc.paragraphs)


def test_xlsx_and_csv_neutralise_formulas(bank_study):
    import csv

    from openpyxl import load_workbook

    out = bank_study.root / "bank.xlsx"
    assert run(bank_study, "quotes", "--format", "xlsx", "--out", str(out)).exit_code == 0
    book = load_workbook(out)
    sheet = book["codings"]
    header = [c.value for c in sheet[1]]
    assert {"transcript", "segment", "code", "speaker", "role", "site", "citation",
            "text"} <= set(header)
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(2)]
    assert len(rows) == 7
    evil = next(r for r in rows if "HYPERLINK" in r["text"])
    assert evil["text"].startswith("'=")
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    matrix = book["segments x codes"]
    assert [c.value for c in matrix[1]] == ["id", "transcript", "segment", "speaker",
                                            "need targeted PD", "seat-time mandates"]
    assert [c.value for c in matrix[2]][4:] == [1, 0]
    csv_out = bank_study.root / "bank.csv"
    assert run(bank_study, "quotes", "--format", "csv", "--out", str(csv_out)).exit_code == 0
    lines = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert len(lines) == 7 and any(r["text"].startswith("'=HYPERLINK") for r in lines)


def test_bad_options_give_one_line(bank_study):
    for args in (["--where", "role"], ["--codes", "nope"], ["--per-code", "0"],
                 ["--theme", "nope"], ["--format", "docx", "--out", "-"],
                 ["--min-chars", "500", "--max-chars", "100"]):
        result = run(bank_study, "quotes", *args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if "rror" in line]) == 1, args


def test_memos_and_all_in_rank_order(bank_study):
    assert run(bank_study, "memo", "set", "--code", "need targeted PD",
               "Mostly from teachers").exit_code == 0
    data = json.loads(run(bank_study, "quotes", "--all", "--memos", "--format", "json",
                          "--out", "-").output)
    first = data["codes"][0]
    assert first["memos"] == ["tester: Mostly from teachers"]
    scores = [q["typicality"] for q in first["quotes"]]
    assert len(scores) == 6 and scores == sorted(scores, reverse=True)
    without = json.loads(run(bank_study, "quotes", "--format", "json", "--out", "-").output)
    assert without["codes"][0]["memos"] == []


def test_closing_quotes_stay_with_their_sentence():
    from coder.nlp import pipeline

    text = "He said, “Stop.” Then we left [at noon]. Done!"
    lemmas, tokens = next(pipeline().analyse([text]))
    assert [text[a:b] for a, b, _ in sentence_spans(text, lemmas, tokens)] == [
        "He said, “Stop.”", "Then we left [at noon].", "Done!"]


def test_a_misspelt_where_key_is_an_error_not_an_empty_bank(demo):
    from conftest import run

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    result = run(demo, "quotes", "--where", "rol=teacher", "--out", "-")
    assert result.exit_code == 1
    assert "--where 'rol': no speaker attribute or transcript metadata has that name" \
        in result.output and "role" in result.output
    ok = run(demo, "quotes", "--where", "role=teacher", "--out", "-")
    assert ok.exit_code == 0 and "ephrata-interview ¶2" in ok.output


def test_interviewers_are_not_quoted_unless_asked_for(demo):
    segments = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    asked = next(s["ordinal"] for s in segments if s["role"] == "interviewer")
    answer = next(s["ordinal"] for s in segments if s["role"] != "interviewer")
    for ordinal in (asked, answer):
        result = run(demo, "code", "apply", "ephrata-interview", str(ordinal),
                     "need targeted PD")
        assert result.exit_code == 0, result.output

    def quoted(*extra: str) -> set[int]:
        data = json.loads(run(demo, "quotes", "--format", "json", "--out", "-", *extra).output)
        return {q["segment"] for c in data["codes"] for q in c["quotes"]}

    assert quoted() == {answer}
    assert quoted("--include-interviewers") == {asked, answer}
