"""`coder import` end to end: segmentation, lemmas, re-imports, replacing, and bad input."""

from __future__ import annotations

import json

import pytest

from conftest import INTERVIEW, copy_demo_study, open_store, run, snapshot


def _segments(study, name="ephrata-interview"):
    return json.loads(run(study, "segments", name, "--format", "json").output)


def test_turns_keep_speakers_offsets_lemmas_and_metadata(demo):
    with open_store(demo) as store:
        t = store.one("SELECT * FROM transcripts")
        segs = store.rows("SELECT * FROM segments ORDER BY ordinal")
    assert json.loads(t["metadata"]) == {"kind": "interview", "site": "Ephrata Area",
                                         "date": "2019-03-04"}
    assert t["format"] == "md" and t["segmentation"] == "turn"
    assert len(t["sha256"]) == 64
    assert [s["ordinal"] for s in segs] == [1, 2, 3, 4, 5]
    for s in segs:
        assert t["text"][s["start"]:s["end"]] == s["text"]
    assert segs[1]["text"] == ("We needed more targeted PD before the program started.\n"
                               "Most of it was drive-by workshops.")
    assert segs[1]["lemmas"].startswith("we need much target pd before the program start .")
    starts = [tuple(map(int, tok.split(":"))) for tok in segs[1]["tokens"].split()]
    assert segs[1]["text"][starts[3][0]:starts[3][1]] == "targeted"


def test_reimporting_an_unchanged_file_does_nothing_and_says_so(demo):
    before = snapshot(demo)
    result = run(demo, "import", str(demo.transcripts_dir / "ephrata-interview.md"))
    assert result.exit_code == 0
    assert "unchanged: ephrata-interview: already imported" in result.output
    assert snapshot(demo) == before


def test_importing_again_with_other_options_needs_replace(study, tmp_path):
    sheet = tmp_path / "survey.csv"
    sheet.write_text("who,school,answer\nr1,Ephrata,We need coaching\n"
                     "r2,Ligonier,More planning time\n", encoding="utf-8")
    assert run(study, "import", str(sheet)).exit_code == 0
    assert _segments(study, "survey")[0]["speaker"] == "survey #1"
    again = run(study, "import", str(sheet), "--id-column", "who")
    assert again.exit_code == 1
    assert "it was imported with --id-column (none); pass --replace" in again.output
    bad = run(study, "import", str(sheet), "--id-column", "nope", "--replace")
    assert bad.exit_code == 1 and "no column named 'nope'" in bad.output
    ok = run(study, "import", str(sheet), "--id-column", "who", "--replace")
    assert ok.exit_code == 0, ok.output
    assert [s["speaker"] for s in _segments(study, "survey")] == ["r1", "r2"]


def test_a_survey_import_says_what_it_used_and_left_out(study, tmp_path):
    sheet = tmp_path / "exit-survey.csv"
    sheet.write_text("Respondent,school,answer\nr1,Ephrata,We need coaching\nr2,Ligonier,\n"
                     "r1,Ligonier,Time to plan\n", encoding="utf-8")
    result = run(study, "import", str(sheet))
    assert result.exit_code == 0, result.output
    assert "1 row without an answer left out (row 2)" in result.output
    assert "ids used by more than one row: r1" in result.output
    assert "answers from 'answer', respondents from 'Respondent'" in result.output
    assert [s["speaker"] for s in _segments(study, "exit-survey")] == ["r1", "r1"]


def test_a_folder_import_leaves_out_readme_files(study, tmp_path):
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "README.md").write_text("# About these interviews\n", encoding="utf-8")
    (folder / "one.md").write_text("Ann: Hello.\n", encoding="utf-8")
    result = run(study, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert "imported: one" in result.output and "README" not in result.output


def test_a_changed_file_is_refused_without_replace(demo):
    path = demo.transcripts_dir / "ephrata-interview.md"
    path.write_text(INTERVIEW.replace("drive-by", "one-off"), encoding="utf-8")
    before = snapshot(demo)
    result = run(demo, "import", str(path))
    assert result.exit_code == 1
    assert "was imported before and this file differs; pass --replace" in result.output
    assert snapshot(demo) == before


def test_replace_keeps_codings_of_unchanged_segments_and_reports_the_rest(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "4", "islands of innovation", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="bo")
    run(demo, "review", "ephrata-interview", coder="ann")
    path = demo.transcripts_dir / "ephrata-interview.md"
    changed = INTERVIEW.replace("drive-by workshops", "one-off workshops").replace(
        "Interviewer: And time", "Interviewer: Anything else?\n\nInterviewer: And time")
    path.write_text(changed, encoding="utf-8")
    result = run(demo, "import", str(path), "--replace")
    assert result.exit_code == 0, result.output
    assert "replaced: ephrata-interview (6 segments)" in result.output
    assert "kept 4 unchanged segments with 2 codings" in result.output
    assert "could not keep: segment 2 'need targeted PD' by ann (its text changed)" \
        in result.output
    rows = _segments(demo)
    with open_store(demo) as store:
        kept = store.rows("""SELECT s.ordinal, c.name, g.coder FROM codings g
                             JOIN segments s ON s.id = g.segment_id
                             JOIN codes c ON c.id = g.code_id ORDER BY s.ordinal""")
        text = store.scalar("SELECT text FROM transcripts")
        for seg in store.rows("SELECT * FROM segments"):
            assert text[seg["start"]:seg["end"]] == seg["text"]
    assert [(k["ordinal"], k["name"], k["coder"]) for k in kept] == [
        (5, "islands of innovation", "ann"), (6, "seat-time mandates", "bo")]
    assert rows[2]["text"] == "Anything else?"
    assert json.loads(run(demo, "search", "drive", "--format", "json").output) == []


def test_paragraph_and_sentence_segmentation(study, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Field notes from the visit.\n\nThe schedule is rigid. Seat time rules.\n"
                    "Teachers want coaching.\n", encoding="utf-8")
    assert run(study, "import", str(path), "--segment", "paragraph").exit_code == 0
    assert [s["text"] for s in _segments(study, "notes")] == [
        "Field notes from the visit.",
        "The schedule is rigid. Seat time rules.\nTeachers want coaching."]
    other = tmp_path / "notes2.txt"
    other.write_text(path.read_text(), encoding="utf-8")
    assert run(study, "import", str(other), "--segment", "sentence").exit_code == 0
    assert [s["text"] for s in _segments(study, "notes2")] == [
        "Field notes from the visit.", "The schedule is rigid.", "Seat time rules.",
        "Teachers want coaching."]


def test_text_without_speaker_labels_imports_as_paragraphs_and_says_so(study, tmp_path):
    path = tmp_path / "essay.txt"
    path.write_text("Just an essay about schools.\n\nNo speakers here.\n", encoding="utf-8")
    result = run(study, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "imported as paragraphs" in result.output
    assert [s["text"] for s in _segments(study, "essay")] == [
        "Just an essay about schools.", "No speakers here."]


def test_turns_asked_for_but_none_found_shows_the_file_and_what_to_try(study, tmp_path):
    path = tmp_path / "essay.txt"
    path.write_text("Just an essay about schools.\n\nNo speakers here.\n", encoding="utf-8")
    before = snapshot(study)
    result = run(study, "import", str(path), "--segment", "turn")
    assert result.exit_code == 1
    assert f"{path}: no speaker turns found" in result.output
    assert "  | Just an essay about schools." in result.output  # what the file looked like
    assert "--segment paragraph" in result.output
    assert "Traceback" not in result.output
    assert snapshot(study) == before


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty.txt", b"", "empty"),
    ("blank.md", b"  \n\n \n", "empty"),
    ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("fake.docx", b"PK\x03\x04 not really a zip", "not a Word .docx file"),
    ("fake.xlsx", b"plain text pretending", "not an Excel .xlsx file"),
    ("captions.vtt", b"WEBVTT\n\n1\n00:00:xx.000 --> 00:00:02.000\nHi\n", "timing"),
    ("notes.pdf", b"%PDF-1.4", "not a readable PDF"),
    ("notes.odt", b"PK\x03\x04", "supported"),
])
def test_bad_files_get_one_line_and_change_nothing(demo, tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(demo)
    result = run(demo, "import", str(path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(path) in lines[0] and reason in lines[0]
    assert snapshot(demo) == before


def test_a_survey_without_the_named_column_changes_nothing(study, tmp_path):
    sheet = tmp_path / "survey.csv"
    sheet.write_text("id,school,response\n1,Ephrata,We need coaching\n", encoding="utf-8")
    before = snapshot(study)
    result = run(study, "import", str(sheet), "--text-column", "answer")
    assert result.exit_code == 1
    assert "no column named 'answer' (columns: id, school, response)" in result.output
    assert snapshot(study) == before
    ok = run(study, "import", str(sheet), "--text-column", "response", "--id-column", "id")
    assert ok.exit_code == 0, ok.output
    rows = _segments(study, "survey")
    assert [(r["speaker"], r["text"]) for r in rows] == [("1", "We need coaching")]
    with open_store(study) as store:
        assert store.scalar("SELECT value FROM speaker_attributes WHERE key = 'school'") == \
            "Ephrata"


def test_a_multi_file_import_is_all_or_nothing(study, tmp_path):
    good = tmp_path / "good.md"
    good.write_text("Ann: Hello.\n\nBo: Hi.\n", encoding="utf-8")
    bad1 = tmp_path / "bad1.txt"
    bad1.write_bytes(b"")
    bad2 = tmp_path / "bad2.txt"
    bad2.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    before = snapshot(study)
    result = run(study, "import", str(good), str(bad1), str(bad2))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert "bad1.txt: empty" in lines[0] and "bad2.txt: binary file" in lines[1]
    assert "2 files could not be imported, so none was" in lines[2]
    assert snapshot(study) == before
    assert run(study, "import", str(good)).exit_code == 0


def test_two_files_with_one_name_are_refused(study, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.md").write_text("Ann: one\n", encoding="utf-8")
    (tmp_path / "x.txt").write_text("Ann: two\n", encoding="utf-8")
    result = run(study, "import", str(tmp_path / "a" / "x.md"), str(tmp_path / "x.txt"))
    assert result.exit_code == 1 and "same transcript name 'x'" in result.output


def test_a_missing_path_is_named(study, tmp_path):
    result = run(study, "import", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1 and "nope.txt: no such file or folder" in result.output


def test_the_demo_study_imports_with_its_codebook(tmp_path):
    study_dir = copy_demo_study(tmp_path / "demo")
    from coder.study import open_study

    study = open_study(study_dir)
    result = run(study, "sync")
    assert result.exit_code == 0, result.output
    listing = {t["name"]: t for t in json.loads(run(study, "transcripts", "--format",
                                                    "json").output)}
    assert {"podcast-pd-networks", "experts-panel", "focus-group-voices"} <= set(listing)
    assert listing["podcast-pd-networks"]["kind"] == "interview"
    assert listing["focus-group-voices"]["kind"] == "focus-group"
    codes = {c["name"]: c for c in json.loads(run(study, "codebook", "show", "--format",
                                                  "json").output)}
    for name in ("need targeted PD", "islands of innovation", "seat-time mandates"):
        assert codes[name]["definition"] and codes[name]["patterns"], name
    themes = [c["name"] for c in codes.values() if c["parent"] is None]
    assert len(themes) == 6
    podcast = _segments(study, "podcast-pd-networks")
    speakers = {s["speaker"] for s in podcast}
    assert {"Shawn Rubin", "Raymond Steinmetz"} <= speakers
    with open_store(study) as store:
        unroled = store.rows("""SELECT DISTINCT sp.name FROM segments s
                                JOIN speakers sp ON sp.id = s.speaker_id
                                WHERE NOT EXISTS (SELECT 1 FROM speaker_attributes a
                                WHERE a.speaker_id = sp.id AND a.key = 'role')""")
    assert unroled == []
    assert "The study is up to date." in run(study, "sync").output


def test_many_files_are_analysed_in_parallel_with_the_same_result(study, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(10):
        (folder / f"t{n:02d}.md").write_text(
            f"Ann: Interview {n} about targeted PD.\n\nBo: Islands of innovation, {n}.\n",
            encoding="utf-8")
    (folder / "t05.md").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    before = snapshot(study)
    result = run(study, "import", str(folder))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"coder: error: {folder / 't05.md'}: binary file, not a text transcript"]
    assert snapshot(study) == before
    (folder / "t05.md").write_text("Ann: Fixed.\n", encoding="utf-8")
    result = run(study, "import", str(folder))
    assert result.exit_code == 0, result.output
    with open_store(study) as store:
        rows = store.rows("""SELECT t.name, s.ordinal, s.text, s.lemmas FROM segments s
                             JOIN transcripts t ON t.id = s.transcript_id
                             ORDER BY t.name, s.ordinal""")
    assert len(rows) == 19
    assert rows[0] == {"name": "t00", "ordinal": 1, "text": "Interview 0 about targeted PD.",
                       "lemmas": "interview 0 about target pd ."}
    assert json.loads(run(study, "search", "island", "--format", "json").output)[0][
        "speaker"] == "Bo"


@pytest.mark.parametrize("suffix", [".docx", ".xlsx"])
def test_a_zip_bomb_is_refused_before_it_is_unpacked(study, tmp_path, suffix):
    import zipfile

    path = tmp_path / f"bomb{suffix}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"\0" * (300 * 2**20))
    assert path.stat().st_size < 2 * 2**20
    before = snapshot(study)
    result = run(study, "import", str(path), "--text-column", "answer")
    assert result.exit_code == 1
    assert "refused: unpacks to 300 MB" in result.output and str(path) in result.output
    assert snapshot(study) == before


def test_a_named_spacy_pipeline_that_is_not_installed_is_a_clear_error(study, tmp_path):
    config = study.root / "coder.toml"
    config.write_text(config.read_text().replace('nlp_model = ""',
                                                 'nlp_model = "xx_not_installed_sm"'))
    path = tmp_path / "a.md"
    path.write_text("Ann: Hello there.\n", encoding="utf-8")
    result = run(study, "import", str(path))
    assert result.exit_code == 1
    assert "the spaCy pipeline 'xx_not_installed_sm' named in coder.toml is not installed" \
        in result.output
