"""Span codings: the core functions, the CLI paths, undo/redo and the table round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest

from coder.errors import CoderError
from coder.spans import find_text, quote_spans, whole_words
from coder.store import history
from coder.store.codes import find_code
from coder.store.spans import code_span, segment_spans, set_span_memo, uncode_span
from coder.store.transcripts import segment_id
from conftest import open_store, run, snapshot

T = "ephrata-interview"


def _spans(study, coder: str = "tester") -> list[tuple[str, int, int, str, str | None]]:
    """(code, start, end, spanned text, memo) of every span, read back from the database:
    the stored transcript offsets must cut exactly these words from the transcript text."""
    with open_store(study) as store:
        rows = store.rows(
            """SELECT c.name, g.span_start - s.start AS a, g.span_end - s.start AS b,
                      substr(t.text, g.span_start + 1, g.span_end - g.span_start) AS words,
                      g.memo
               FROM codings g JOIN segments s ON s.id = g.segment_id
               JOIN transcripts t ON t.id = s.transcript_id JOIN codes c ON c.id = g.code_id
               WHERE g.span_start IS NOT NULL AND g.coder = ? ORDER BY g.span_start""",
            (coder,))
    return [(r["name"], r["a"], r["b"], r["words"], r["memo"]) for r in rows]


def test_find_text_prefers_exact_then_ignores_case_and_matches_any_white_space():
    text = "We needed more targeted PD.\nMore   targeted PD, please."
    assert find_text(text, "targeted PD") == ((15, 26), False)
    assert find_text(text, "targeted PD", 2) == ((35, 46), False)
    assert find_text(text, "PD. more") == ((24, 32), True)  # a line break, another case
    with pytest.raises(CoderError, match="twice|2 times"):
        find_text(text, "targeted PD", 3)
    with pytest.raises(CoderError, match="does not contain"):
        find_text(text, "coaching")


def test_quote_spans_keeps_whole_words_and_marks_cuts():
    text = "We needed more targeted PD before the program started. Most was drive-by."
    assert whole_words(text, 17, 25) == (15, 26)
    assert quote_spans(text, [(17, 25)]) == ("… targeted PD …", True)
    assert quote_spans(text, [(0, 9), (63, 73)]) == ("We needed … drive-by.", True)
    sentences = [(0, 54), (55, 73)]
    assert quote_spans(text, [(15, 26)], sentences) == (text[:54] + " …", True)
    assert quote_spans(text, [(0, len(text))]) == (text, False)


def test_a_span_is_stored_as_transcript_offsets_and_replaced_when_recoded(demo):
    with open_store(demo) as store:
        _, seg = segment_id(store, T, 2)
        code = find_code(store, "need targeted PD")["id"]
        first = code_span(store, seg, code, 10, 26, coder="tester")  # "more targeted PD"
        assert (first.action, first.text) == ("added", "more targeted PD")
        wider = code_span(store, seg, code, 3, 30, coder="tester")  # overlaps: replaces it
        assert (wider.action, wider.replaced) == ("replaced", [(10, 26)])
        assert code_span(store, seg, code, 3, 30, coder="tester").action == "unchanged"
        other = code_span(store, seg, code, 59, 78, coder="tester")  # elsewhere: a second
        assert other.action == "added"
    assert [(c, w) for c, _, _, w, _ in _spans(demo)] == [
        ("need targeted PD", "needed more targeted PD bef"),
        ("need targeted PD", "of it was drive-by")]


def test_whole_segment_and_span_codings_of_one_code_are_distinct(demo):
    assert run(demo, "code", "apply", T, "2", "need targeted PD").exit_code == 0
    result = run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "targeted PD")
    assert result.exit_code == 0, result.output
    assert "Coded ephrata-interview ¶2 characters 15-26 “targeted PD”" in result.output
    rows = json.loads(run(demo, "segments", T, "--segments", "2", "--format", "json").output)
    assert rows[0]["codes"] == ["need targeted PD"]
    assert [(s["code"], s["start"], s["end"], s["text"]) for s in rows[0]["spans"]] == [
        ("need targeted PD", 15, 26, "targeted PD")]
    table = run(demo, "segments", T, "--segments", "2").output
    assert "› need targeted PD 15-26 “targeted PD”" in table
    # Removing the words takes off the span only; removing the code takes off both.
    assert run(demo, "code", "remove", T, "2", "need targeted PD", "--text",
               "PD").exit_code == 0
    rows = json.loads(run(demo, "segments", T, "--segments", "2", "--format", "json").output)
    assert (rows[0]["codes"], rows[0]["spans"]) == (["need targeted PD"], [])


def test_cli_chars_and_occurrence(demo):
    result = run(demo, "code", "apply", T, "5", "seat-time mandates", "--chars", "10-26")
    assert result.exit_code == 0, result.output
    assert _spans(demo) == [("seat-time mandates", 10, 26, "still counts sea", None)]
    run(demo, "code", "add", "place")
    ok = run(demo, "code", "apply", T, "2", "place", "--text", "the", "--occurrence", "1")
    assert ok.exit_code == 0, ok.output
    assert _spans(demo)[0][1:4] == (34, 37, "the")


@pytest.mark.parametrize("args, message", [
    (["--text", "coaching"], "ephrata-interview ¶5: the segment does not contain 'coaching'"),
    (["--text", "seat time", "--occurrence", "2"], "has 'seat time' once, not 2"),
    (["--chars", "40-400"], "not inside the segment"),
    (["--chars", "ten-twenty"], "use START-END"),
    (["--chars", "9-10"], "only white space"),
    (["--text", "x", "--chars", "1-2"], "either --text or --chars"),
    (["--occurrence", "2"], "--occurrence goes with --text"),
])
def test_bad_span_arguments_are_one_line_errors_that_change_nothing(demo, args, message):
    before = snapshot(demo)
    result = run(demo, "code", "apply", T, "5", "seat-time mandates", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert snapshot(demo) == before


def test_span_changes_undo_and_redo_across_processes(demo):
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "more targeted PD")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "needed more targeted PD")
    assert [w for *_, w, _ in _spans(demo)] == ["needed more targeted PD"]
    undo = run(demo, "undo")
    assert "undid" in undo.output and "words in ephrata-interview ¶2" in undo.output
    assert [w for *_, w, _ in _spans(demo)] == ["more targeted PD"]
    run(demo, "redo")
    assert [w for *_, w, _ in _spans(demo)] == ["needed more targeted PD"]
    with open_store(demo) as store:
        store.coder = "tester"
        coding = store.scalar("SELECT id FROM codings WHERE span_start IS NOT NULL")
        with store.transaction("memo"):
            assert set_span_memo(store, coding, "the key words", coder="tester") == "added"
    assert _spans(demo)[0][4] == "the key words"
    with open_store(demo) as store:
        result = history.undo(store, "tester")
        assert result is not None and "edited the memo" in result.message
    assert _spans(demo)[0][4] is None
    with open_store(demo) as store:
        history.redo(store, "tester")
    assert _spans(demo)[0][4] == "the key words"


def test_uncode_span_and_segment_spans(demo):
    with open_store(demo) as store:
        _, seg = segment_id(store, T, 2)
        code = find_code(store, "need targeted PD")["id"]
        code_span(store, seg, code, 15, 26, coder="tester")
        code_span(store, seg, code, 15, 26, coder="bo")
        assert [(s["coder"], s["text"]) for s in segment_spans(store, [seg])[seg]] == [
            ("bo", "targeted PD"), ("tester", "targeted PD")]
        assert uncode_span(store, seg, code, 20, 20, coder="tester") == [(15, 26)]
        assert [s["coder"] for s in segment_spans(store, [seg])[seg]] == ["bo"]


def test_codings_export_and_import_keep_spans(demo, tmp_path):
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "targeted PD")
    run(demo, "code", "apply", T, "2", "need targeted PD")
    out = tmp_path / "codings.csv"
    assert run(demo, "codings", "export", "--out", str(out)).exit_code == 0
    lines = list(csv.reader(io.StringIO(out.read_text())))
    assert lines[0][:8] == ["transcript", "segment", "code", "coder", "memo", "start", "end",
                            "span_text"]
    assert [line[5:8] for line in lines[1:]] == [["", "", ""], ["15", "26", "targeted PD"]]
    # Into another coder's hands and back: the same codings, spans included.
    text = out.read_text().replace(",tester,", ",bo,")
    (tmp_path / "bo.csv").write_text(text, encoding="utf-8")
    result = run(demo, "codings", "import", str(tmp_path / "bo.csv"))
    assert result.exit_code == 0 and "2 codings added" in result.output
    assert _spans(demo, "bo") == _spans(demo, "tester")
    # A plain sheet naming the words in a text column.
    sheet = tmp_path / "words.csv"
    sheet.write_text("transcript,segment,code,coder,text\n"
                     f"{T},5,seat-time mandates,cy,seat time\n"
                     f"{T},5,seat-time mandates,cy,\n", encoding="utf-8")
    assert run(demo, "codings", "import", str(sheet)).exit_code == 0
    assert _spans(demo, "cy") == [("seat-time mandates", 23, 32, "seat time", None)]
    rows = json.loads(run(demo, "segments", T, "--segments", "5", "--all-coders",
                          "--format", "json").output)
    assert rows[0]["codes"] == ["seat-time mandates (cy)"]


def test_a_span_import_with_wrong_words_imports_nothing(demo, tmp_path):
    before = snapshot(demo)
    sheet = tmp_path / "bad.csv"
    sheet.write_text("transcript,segment,code,start,end,span_text\n"
                     f"{T},5,seat-time mandates,23,32,seat time\n"
                     f"{T},5,seat-time mandates,0,3,seat\n"
                     f"{T},5,seat-time mandates,3,x,\n", encoding="utf-8")
    result = run(demo, "codings", "import", str(sheet))
    assert result.exit_code == 1
    assert f"{sheet}:3: characters 0-3 hold 'The', not 'seat'" in result.output
    assert f"{sheet}:4: start and end must both be whole numbers" in result.output
    assert snapshot(demo) == before


def test_the_quote_bank_quotes_the_coded_words(demo):
    from coder.quotes import Options, build_bank

    run(demo, "code", "apply", T, "2", "need targeted PD", "--chars", "17-25")  # "rgeted P"
    run(demo, "code", "apply", T, "5", "seat-time mandates")  # the whole segment
    run(demo, "code", "apply", T, "5", "seat-time mandates", "--text", "seat time")
    with open_store(demo) as store:
        def quote(code: str, **options) -> tuple[str, bool]:
            bank = build_bank(store, study="s", coder="tester", codes=[code],
                              options=Options(**options))
            found = bank.codes[0].quotes[0]
            return found.text, found.trimmed

        assert quote("need targeted PD") == ("… targeted PD …", True)
        assert quote("need targeted PD", context=True) == (
            "We needed more targeted PD before the program started. …", True)
        # A whole-segment coding of the code quotes the segment, spans or not.
        assert quote("seat-time mandates") == (
            "The state still counts seat time, so our schedule cannot move.", False)
    md = run(demo, "quotes", "--codes", "need targeted PD", "--out", "-").output
    assert "> … targeted PD …" in md


def _span_rows(study) -> list[tuple]:
    return [(r["segment"], r["code"], r["coder"], r["start"], r["end"], r["span_text"],
             r["memo"]) for r in json.loads(run(study, "codings", "export", "--format", "json",
                                                "--all-coders").output)]


def test_refi_qda_round_trip_keeps_spans_exactly(demo, tmp_path):
    import zipfile

    from coder.study import init_study
    from test_exchange import _selections

    for args, coder in [
        (("2", "need targeted PD", "--text", "more targeted PD", "--memo", "the ask"), "ana"),
        (("2", "need targeted PD", "--text", "drive-by workshops"), "ana"),
        (("2", "islands of innovation", "--text", "targeted PD before"), "ana"),
        (("2", "need targeted PD", "--chars", "3-26"), "bo"),
        (("5", "seat-time mandates", "--text", "seat time"), "bo"),
    ]:
        result = run(demo, "code", "apply", T, *args, coder=coder)
        assert result.exit_code == 0, result.output
    out = tmp_path / "spans.qdpx"
    assert run(demo, "export", "qdpx", str(out)).exit_code == 0
    fresh = init_study(tmp_path / "fresh", "Test study")  # GUIDs derive from the name
    result = run(fresh, "import-qdpx", str(out))
    assert result.exit_code == 0, result.output
    assert _span_rows(fresh) == _span_rows(demo)
    again = tmp_path / "again.qdpx"
    assert run(fresh, "export", "qdpx", str(again)).exit_code == 0
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(again) as b:
        assert _selections(a) == _selections(b)
        assert len(_selections(a)) == 5


def test_character_agreement_on_random_overlapping_spans_equals_a_direct_count(study):
    """Spans (overlapping, of two codes, with whole-segment codings mixed in) compared
    character by character with scikit-learn over the segments' characters."""
    import random

    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from coder.agreement import compute_agreement
    from coder.store.codings import apply_coding, mark_reviewed
    from coder.store.transcripts import SegmentRow, insert_transcript

    rng = random.Random(12)
    pieces = ["word " * n for n in (30, 45, 12, 60)]
    text, rows, pos = "", [], 0
    for n, piece in enumerate(pieces, start=1):
        text += piece + "\n\n"
        rows.append(SegmentRow(n, None, pos, pos + len(piece), None, None, piece))
        pos = len(text)
    coders, names = ("ana", "ben"), ("X", "Y")
    truth = {(c, k): np.zeros(len(text), dtype=int) for c in coders for k in names}
    with open_store(study) as store, store.transaction("setup"):
        insert_transcript(store, name="t", source_path="t.txt", sha256="2" * 64, fmt="txt",
                          segmentation="turn", metadata={}, text=text, segments=rows)
        segs = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY ordinal")]
        ids = {k: store.execute("INSERT INTO codes (name, created_at) VALUES (?, '')",
                                (k,)).lastrowid for k in names}
        for coder in coders:
            mark_reviewed(store, segs, coder=coder)
            for seg, row in zip(segs, rows, strict=True):
                for k in names:
                    if rng.random() < 0.2:
                        apply_coding(store, seg, ids[k], coder=coder)
                        truth[(coder, k)][row.start:row.end] = 1
                    for _ in range(rng.randint(0, 3)):
                        a = rng.randrange(row.start, row.end - 1)
                        b = rng.randrange(a + 1, row.end + 1)
                        apply_coding(store, seg, ids[k], coder=coder, span=(a, b))
                        truth[(coder, k)][a:b] = 1
    inside = np.zeros(len(text), dtype=bool)
    for row in rows:
        inside[row.start:row.end] = True
    with open_store(study) as store:
        report = compute_agreement(store, unit="character")
    assert report["units"] == int(inside.sum())
    for code in report["codes"]:
        ana, ben = truth[("ana", code["code"])][inside], truth[("ben", code["code"])][inside]
        assert code["percent_agreement"] == pytest.approx(100 * float(np.mean(ana == ben)))
        assert code["cohen_kappa"] == pytest.approx(cohen_kappa_score(ana, ben))


def test_merge_brings_in_span_codings_with_their_words(demo, tmp_path):
    from coder.study import init_study
    from conftest import CODEBOOK, INTERVIEW

    other = init_study(tmp_path / "ben-copy", "Test study")
    (other.transcripts_dir / "ephrata-interview.md").write_text(INTERVIEW, encoding="utf-8")
    (other.codebooks_dir / "pl.yaml").write_text(CODEBOOK, encoding="utf-8")
    assert run(other, "sync").exit_code == 0
    run(other, "code", "apply", T, "2", "need targeted PD", "--text", "targeted PD",
        "--memo", "the words", coder="ben")
    run(other, "code", "apply", T, "2", "need targeted PD", coder="ben")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "more targeted",
        coder="ana")
    result = run(demo, "merge", str(other.root), coder="lead")
    assert result.exit_code == 0, result.output
    assert [r for r in _span_rows(demo) if r[2] == "ben"] == [
        (2, "need targeted PD", "ben", None, None, "", ""),
        (2, "need targeted PD", "ben", 15, 26, "targeted PD", "the words")]
    assert run(demo, "merge", str(other.root), coder="lead").exit_code == 0  # nothing twice
    assert len(_span_rows(demo)) == 3


def test_the_suggester_learns_from_the_segment_a_span_is_in(demo):
    from coder.store.learner import learner_labels

    run(demo, "code", "apply", T, "5", "seat-time mandates", "--text", "seat time")
    with open_store(demo) as store:
        _, seg = segment_id(store, T, 5)
        code = find_code(store, "seat-time mandates")["id"]
        assert learner_labels(store, "tester").codings == [(seg, code)]


def _span_disagreement(demo) -> None:
    for coder in ("ana", "ben"):
        run(demo, "review", T, coder=coder)
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "more targeted PD",
        coder="ana")
    run(demo, "code", "apply", T, "2", "islands of innovation", coder="ana")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "drive-by workshops",
        coder="ben")


def test_reconciling_shows_both_spans_and_taking_a_coder_takes_their_span(demo):
    _span_disagreement(demo)
    out = json.loads(run(demo, "reconcile", "--list", "--format", "json").output)
    (item,) = out["pending"]
    assert {c: [(s["code"], s["text"]) for s in w["spans"]]
            for c, w in item["coders"].items()} == {
        "ana": [("need targeted PD", "more targeted PD")],
        "ben": [("need targeted PD", "drive-by workshops")]}
    result = run(demo, "reconcile", "--segment", T, "2", "--take", "ben", coder="lead")
    assert result.exit_code == 0, result.output
    assert [r for r in _span_rows(demo) if r[2] == "consensus"] == [
        (2, "need targeted PD", "consensus", 70, 88, "drive-by workshops", "")]
    run(demo, "undo", coder="lead")
    assert [r for r in _span_rows(demo) if r[2] == "consensus"] == []


async def test_the_reconcile_screen_shows_each_coders_words(demo):
    from coder.tui import CoderApp

    _span_disagreement(demo)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=(120, 40)) as pilot:
        app.show_reconcile()
        await pilot.pause()
        shown = str(app.screen.query_one("#reconcile-segment").render())
        assert "› need targeted PD: “more targeted PD” (10-26)" in shown
        assert "› need targeted PD: “drive-by workshops” (70-88)" in shown
        await pilot.press("1")  # take ana's reading: her span, and her whole-segment code
        await pilot.pause()
    consensus = [r for r in _span_rows(demo) if r[2] == "consensus"]
    assert sorted((r[1], r[5]) for r in consensus) == [("islands of innovation", ""),
                                                       ("need targeted PD", "more targeted PD")]


def _words_only_disagreement(demo) -> None:
    """ana and ben both code ¶2 'need targeted PD', on different words; ana also ¶3 whole,
    ben ¶3 the same code whole (no disagreement there)."""
    for coder in ("ana", "ben"):
        run(demo, "review", T, coder=coder)
        run(demo, "code", "apply", T, "3", "need targeted PD", coder=coder)
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "more targeted PD",
        coder="ana")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "drive-by workshops",
        coder="ben")


def test_disagreements_by_character_list_the_same_code_on_different_words(demo):
    _words_only_disagreement(demo)
    by_segment = json.loads(run(demo, "disagreements", "--format", "json").output)
    assert by_segment == []  # the default stays segment level: both gave the code
    result = run(demo, "disagreements", "--unit", "character", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["segment"], row["code"], row["applied_by"]) == (2, "need targeted PD",
                                                                ["ana", "ben"])
    assert row["words"] == {"ana": ["more targeted PD"], "ben": ["drive-by workshops"]}
    table = run(demo, "disagreements", "--unit", "character").output
    assert "“more targeted PD”" in table and "“drive-by workshops”" in table
    listed = run(demo, "disagreements", "--unit", "character", "--format", "csv").output
    assert "ana: “more targeted PD” | ben: “drive-by workshops”" in listed


def test_a_whole_segment_and_a_span_of_one_code_differ_by_character(demo):
    for coder in ("ana", "ben"):
        run(demo, "review", T, coder=coder)
    run(demo, "code", "apply", T, "2", "need targeted PD", coder="ana")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "drive-by workshops",
        coder="ben")
    (row,) = json.loads(run(demo, "disagreements", "--unit", "character", "--format",
                            "json").output)
    assert row["words"] == {"ana": ["(whole segment)"], "ben": ["drive-by workshops"]}


def test_reconcile_by_character_lists_and_takes_a_coders_words(demo):
    _words_only_disagreement(demo)
    plain = json.loads(run(demo, "reconcile", "--list", "--format", "json").output)
    assert plain["pending"] == [] and plain["progress"]["disagreements"] == 0
    # --auto-agree by character copies ¶3 (same words) but leaves ¶2 to decide
    auto = json.loads(run(demo, "reconcile", "--auto-agree", "--unit", "character",
                          "--format", "json", coder="lead").output)
    assert auto["auto_agree"]["codings_added"] >= 1
    out = json.loads(run(demo, "reconcile", "--list", "--unit", "character", "--format",
                         "json").output)
    (item,) = out["pending"]
    assert (item["segment"], item["disputed"], item["disputed_words"]) == (
        2, [], ["need targeted PD"])
    assert out["progress"]["remaining"] == 1
    table = run(demo, "reconcile", "--list", "--unit", "character").output
    assert "(words)" in table and "“drive-by" in table and "“more targeted" in table
    result = run(demo, "reconcile", "--segment", T, "2", "--take", "ben", "--unit",
                 "character", coder="lead")
    assert result.exit_code == 0, result.output
    assert "0 remaining" in result.output
    consensus = [r for r in _span_rows(demo) if r[2] == "consensus"]
    assert [(r[0], r[5]) for r in consensus if r[0] == 2] == [(2, "drive-by workshops")]
    # Changing one's mind: ana's reading gives exactly her words, not both.
    run(demo, "reconcile", "--segment", T, "2", "--take", "ana", coder="lead")
    consensus = [r for r in _span_rows(demo) if r[2] == "consensus" and r[0] == 2]
    assert [r[5] for r in consensus] == ["more targeted PD"]


def test_taking_a_whole_segment_reading_replaces_a_span_taken_before(demo):
    for coder in ("ana", "ben"):
        run(demo, "review", T, coder=coder)
    run(demo, "code", "apply", T, "2", "need targeted PD", coder="ana")
    run(demo, "code", "apply", T, "2", "need targeted PD", "--text", "drive-by workshops",
        coder="ben")
    run(demo, "reconcile", "--segment", T, "2", "--take", "ben", coder="lead")
    run(demo, "reconcile", "--segment", T, "2", "--take", "ana", coder="lead")
    consensus = [r for r in _span_rows(demo) if r[2] == "consensus"]
    assert [(r[3], r[4]) for r in consensus] == [(None, None)]


def test_reconcile_refuses_an_unknown_unit(demo):
    from coder import reconcile

    with open_store(demo) as store, pytest.raises(CoderError, match="unit must be one of"):
        reconcile.list_disagreements(store, unit="word")
    result = run(demo, "disagreements", "--unit", "word")
    assert result.exit_code != 0 and "Traceback" not in result.output
