"""`coder suggest`, `coder autocode`, `coder evaluate`, and the suggestion feedback store."""

from __future__ import annotations

import csv
import io
import json

import pytest

from coder.errors import CoderError
from coder.store.codes import list_codes
from coder.store.feedback import accept_suggestion, list_feedback, reject_suggestion
from conftest import open_store, run, snapshot


def _ids(study) -> dict[int, int]:
    with open_store(study) as store:
        return {r["ordinal"]: r["id"] for r in store.rows("SELECT id, ordinal FROM segments")}


def _code(study, name: str) -> int:
    with open_store(study) as store:
        return next(c["id"] for c in list_codes(store) if c["name"] == name)


def test_suggest_json_lists_suggestions_with_sources_and_evidence(demo):
    result = run(demo, "suggest", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(set(r) == {"transcript", "segment", "code", "score", "threshold",
                                   "sources", "evidence"} for r in rows)
    first = {(r["segment"], r["code"]): r for r in rows}
    hit = first[(2, "need targeted PD")]
    assert hit["transcript"] == "ephrata-interview" and hit["sources"] == ["rule"]
    assert hit["score"] >= hit["threshold"]
    text = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    body = {s["ordinal"]: s["text"] for s in text}
    for r in rows:
        for e in r["evidence"]:
            assert set(e) >= {"source", "text", "start", "end"}
            if e["start"] is not None:
                assert body[r["segment"]][e["start"]:e["end"]] == e["text"]
    assert [e["pattern"] for e in hit["evidence"]] == [
        "[{LOWER: drive}, {LOWER: -, OP: ?}, {LOWER: by}]", "targeted pd"]
    # Best first within a segment, at most --top of them, and none below --min-score.
    many = json.loads(run(demo, "suggest", "--format", "json", "--top", "2",
                          "--min-score", "0").output)
    per_segment: dict[int, list[float]] = {}
    for r in many:
        per_segment.setdefault(r["segment"], []).append(r["score"])
    assert all(len(v) <= 2 and v == sorted(v, reverse=True) for v in per_segment.values())


def test_suggest_leaves_out_reviewed_segments_and_formats_csv_and_tables(demo):
    run(demo, "review", "ephrata-interview", "--segments", "2")
    rows = list(csv.DictReader(io.StringIO(run(demo, "suggest", "--format", "csv").output)))
    assert rows and 2 not in {int(r["segment"]) for r in rows}
    assert list(rows[0]) == ["transcript", "segment", "code", "score", "threshold", "sources",
                             "evidence"]
    table = run(demo, "suggest").output
    assert "seat-time mandates" in table and "“seat time”" in table
    none = run(demo, "suggest", "--transcript", "ephrata-interview", "--min-score", "0.99")
    assert none.exit_code == 0 and "No suggestions scoring at least 0.99" in none.output
    bad = run(demo, "suggest", "--transcript", "nope")
    assert bad.exit_code == 1 and "no transcript named 'nope'" in bad.output


def test_autocode_codes_as_a_machine_coder_once(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    run(demo, "review", "ephrata-interview")
    first = run(demo, "autocode")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("auto: 3 codings added, 0 removed, 0 kept on 5 segments")
    with open_store(demo) as store:
        rows = store.rows("SELECT coder, origin, count(*) AS n FROM codings GROUP BY 1, 2")
        reviewed = store.scalar("SELECT count(*) FROM reviewed WHERE coder = 'auto'")
    assert {(r["coder"], r["origin"]): r["n"] for r in rows} == {
        ("tester", "manual"): 1, ("auto", "auto"): 3}
    assert reviewed == 5  # the machine's absences are decisions too
    before = snapshot(demo)
    again = run(demo, "autocode")
    assert again.output.startswith("auto: 0 codings added, 0 removed, 3 kept")
    assert {k: v for k, v in snapshot(demo).items() if k != "events"} == \
        {k: v for k, v in before.items() if k != "events"}
    # Undo as the machine coder takes the whole run back; people's work is untouched.
    assert "undid" in run(demo, "undo", coder="auto").output
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM codings WHERE coder = 'auto'") == 0
        assert store.scalar("SELECT count(*) FROM codings WHERE coder = 'tester'") == 1


def test_autocode_refuses_to_write_over_a_person(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="bea")
    for name, message in (("tester", "the model learns from 'tester'"),
                          ("bea", "'bea' has codings of their own")):
        result = run(demo, "autocode", "--as", name)
        assert result.exit_code == 1 and message in result.output


def test_evaluate_says_how_many_coded_segments_it_needs(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    run(demo, "review", "ephrata-interview")
    result = run(demo, "evaluate")
    assert result.exit_code == 1
    assert "'tester' has 1 reviewed segment(s) with codes; evaluating needs at least 20" in \
        result.output


def test_evaluate_reports_per_code_averages_curve_and_plot(study):
    from coder.codebook import CodeSpec
    from coder.store.codes import apply_codebook
    from coder.store.codings import apply_coding, mark_reviewed
    from test_learn_model import TOPICS, add_transcript, make_segments

    items = make_segments(120, seed=5)
    with open_store(study) as store:
        with store.transaction():
            apply_codebook(store, [CodeSpec(name) for name in sorted(TOPICS)])
        code_id = {c["name"]: c["id"] for c in list_codes(store)}
        ids = add_transcript(store, "t", items)
        with store.transaction():
            for seg, (_, codes) in zip(ids, items, strict=True):
                for code in codes:
                    apply_coding(store, seg, code_id[code], coder="tester")
            mark_reviewed(store, ids, coder="tester")
    result = run(study, "evaluate", "--format", "json", "--folds", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["coder"] == "tester" and data["folds"] == 3 and data["segments"] == 120
    assert [c["code"] for c in data["codes"]] == sorted(TOPICS)
    assert set(data["codes"][0]) == {"code", "support", "predicted", "true_positives",
                                     "precision", "recall", "f1", "kappa", "cv_precision",
                                     "note"}
    # every code has examples enough: its cross-validated precision is shown, no excuse
    assert all(c["cv_precision"] is not None and c["note"] == "" for c in data["codes"])
    assert sum(c["support"] for c in data["codes"]) == sum(len(c) for _, c in items)
    assert data["micro"]["f1"] > 0.6 and data["accuracy"] > data["majority_accuracy"]
    assert set(data["macro"]) == {"precision", "recall", "f1", "kappa"}
    assert 0 <= data["top3_hit_rate"] <= 1
    assert [p["fraction"] for p in data["learning_curve"]] == [0.1, 0.25, 0.5, 1.0]
    assert data["plot"].endswith("exports/evaluate-tester.png")
    with open(data["plot"], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    table = run(study, "evaluate", "--no-plot", "--folds", "3").output
    assert "micro average" in table and "Learning curve" in table and "Plot:" not in table


def test_accepting_codes_the_segment_and_records_the_verdict(demo):
    ids, code = _ids(demo), _code(demo, "need targeted PD")
    with open_store(demo) as store:
        store.coder = "tester"
        assert accept_suggestion(store, ids[2], code, coder="tester", score=0.71,
                                 sources=["rule"])
        coding = store.one("SELECT coder, origin FROM codings")
        events = store.rows("SELECT batch, action, payload FROM events WHERE action LIKE "
                            "'coding.%' OR action LIKE 'suggestion.%' ORDER BY id")
        feedback = list_feedback(store, "tester")
    assert coding == {"coder": "tester", "origin": "suggestion"}
    assert [e["action"] for e in events] == ["coding.add", "suggestion.accept"]
    assert events[0]["batch"] == events[1]["batch"]  # one transaction
    payload = json.loads(events[1]["payload"])
    assert payload["previous"] is None and payload["score"] == 0.71
    assert [(f["segment"], f["code"], f["verdict"], f["sources"]) for f in feedback] == [
        (2, "need targeted PD", "accept", ["rule"])]


def test_rejecting_records_a_verdict_that_replaces_the_last_one(demo):
    ids, code = _ids(demo), _code(demo, "seat-time mandates")
    with open_store(demo) as store:
        reject_suggestion(store, ids[5], code, coder="tester", score=0.7, sources=["rule"])
        accept_suggestion(store, ids[5], code, coder="tester", score=0.8)
        reject_suggestion(store, ids[5], code, coder="tester", score=0.4)
        rows = store.rows("SELECT verdict, score FROM suggestion_feedback")
        last = json.loads(store.scalar(
            "SELECT payload FROM events WHERE action = 'suggestion.reject' ORDER BY id DESC"))
        with pytest.raises(CoderError, match="no code #999"):
            reject_suggestion(store, ids[5], 999, coder="tester")
    assert rows == [{"verdict": "reject", "score": 0.4}]
    # The event says what the verdict replaced, so that undo can put it back.
    assert last["previous"]["verdict"] == "accept" and last["previous"]["score"] == 0.8
    assert {"feedback_id", "segment_id", "code_id", "coder", "verdict", "created_at"} <= set(last)


def test_evaluate_holds_out_a_transcript_and_refuses_one_it_cannot_test(study):
    from coder.codebook import CodeSpec
    from coder.store.codes import apply_codebook
    from coder.store.codings import apply_coding, mark_reviewed
    from test_learn_model import TOPICS, add_transcript, make_segments

    with open_store(study) as store:
        with store.transaction():
            apply_codebook(store, [CodeSpec(name) for name in sorted(TOPICS)])
        code_id = {c["name"]: c["id"] for c in list_codes(store)}
        for name, seed in (("first", 5), ("second", 6)):
            items = make_segments(60, seed=seed)
            ids = add_transcript(store, name, items)
            with store.transaction():
                for seg, (_, codes) in zip(ids, items, strict=True):
                    for code in codes:
                        apply_coding(store, seg, code_id[code], coder="tester")
                mark_reviewed(store, ids, coder="tester")
        add_transcript(store, "unread", make_segments(5, seed=7))
    before = snapshot(study)
    bad = run(study, "evaluate", "--hold-out", "unread", "--no-plot")
    assert bad.exit_code != 0 and "reviewed no segment of 'unread'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1 and snapshot(study) == before
    missing = run(study, "evaluate", "--hold-out", "nowhere", "--no-plot")
    assert missing.exit_code != 0 and "nowhere" in missing.output
    result = run(study, "evaluate", "--hold-out", "first", "--format", "json", "--no-plot")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["hold_out"] == "first" and data["folds"] == 1 and data["segments"] == 60
    assert data["micro"]["f1"] > 0.5  # trained on "second" alone, tested on "first"
    table = run(study, "evaluate", "--hold-out", "first", "--no-plot").output
    assert "held-out transcript first" in table


def test_interviewers_turns_are_left_out_unless_asked_for(demo):
    segments = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    asked = {s["ordinal"] for s in segments if s["role"] == "interviewer"}
    assert asked
    rows = json.loads(run(demo, "suggest", "--min-score", "0", "--format", "json").output)
    assert rows and not {r["segment"] for r in rows} & asked
    table = run(demo, "suggest").output
    assert f"Left out: {len(asked)} interviewer" in table
    rows = json.loads(run(demo, "suggest", "--min-score", "0", "--include-interviewers",
                          "--format", "json").output)
    assert {r["segment"] for r in rows} & asked


def test_autocode_spans_codes_pattern_hits_as_their_sentences(demo):
    from coder.selection import units
    from coder.store.spans import coded_spans

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    run(demo, "review", "ephrata-interview")
    first = run(demo, "autocode", "--spans")
    assert first.exit_code == 0, first.output
    assert "coded as the sentences their patterns matched in" in first.output
    hits = {(r["segment"], r["code"]): [(e["start"], e["end"]) for e in r["evidence"]
                                        if e["source"] == "rule"]
            for r in json.loads(run(demo, "suggest", "--format", "json", "--min-score",
                                    "0", coder="reader").output)}  # reviewed nothing
    with open_store(demo) as store:
        texts = {r["id"]: (r["ordinal"], r["text"])
                 for r in store.rows("SELECT id, ordinal, text FROM segments")}
        names = {c["id"]: c["name"] for c in list_codes(store)}
        spans = coded_spans(store, "auto")
        whole = store.rows("SELECT segment_id, code_id FROM codings WHERE coder = 'auto' "
                           "AND span_start IS NULL")
    assert spans, "a pattern decision is coded as words, not the whole segment"
    for (seg, code), found in spans.items():
        ordinal, text = texts[seg]
        sentences = [(a, b) for a, b in units(text, "sentence")]
        matched = hits.get((ordinal, names[code])) or []
        assert matched, "only pattern hits become spans"
        for start, end in found:
            # each span is whole sentences of the segment, and holds a hit
            assert start in {a for a, _ in sentences} and end in {b for _, b in sentences}
            assert text[start:end].strip() == text[start:end]
            assert any(start <= a and b <= end for a, b in matched)
            assert len(text[start:end]) < len(text) or len(sentences) == 1
    for row in whole:  # decisions with no pattern hit stay whole-segment
        assert not hits.get((texts[row["segment_id"]][0], names[row["code_id"]]))
    # Running it again changes nothing; without --spans the machine coder is whole again.
    again = run(demo, "autocode", "--spans")
    assert ", 0 removed, 3 kept on" in again.output and "re-coded" not in again.output
    back = run(demo, "autocode")
    assert f"{len(spans)} re-coded" in back.output
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM codings WHERE coder = 'auto' "
                            "AND span_start IS NOT NULL") == 0
