"""`coder import --preview`, warnings on a real import, speakers.csv names, PDF pages."""

from __future__ import annotations

import json

from coder.quotes import Options, build_bank
from conftest import open_store, run, snapshot
from pdf_maker import write_pdf
from test_ingest_formats import FIXTURES, PODCAST_MD, _write


def test_preview_shows_what_would_be_stored_and_writes_nothing(study, tmp_path):
    podcast = tmp_path / "changelog-42.md"
    podcast.write_text(PODCAST_MD, encoding="utf-8")
    zoom = _write(FIXTURES["zoom-closed-captions"], tmp_path)
    article = _write(FIXTURES["article-not-dialogue"], tmp_path)
    broken = tmp_path / "broken.vtt"
    broken.write_text("WEBVTT\n\n00:00:xx --> 00:00:02.000\nHi\n", encoding="utf-8")
    before = snapshot(study)
    result = run(study, "import", "--preview", str(podcast), str(zoom), str(article),
                 str(broken))
    assert result.exit_code == 0, result.output
    out = result.output
    assert snapshot(study) == before
    assert "Nothing was imported (--preview)." in out
    assert "format: Markdown transcript: 4 speaker labels (Name:), 2 speakers" in out
    assert "speakers: Jerod Santo (2 turns, 17 words); Adam Stacoviak (2 turns, 12 words)" in out
    assert "times: 4 segments timed, 00:20:03 to 00:26:04" in out
    assert "00:20:15 Adam Stacoviak: It's a big topic & a hard one." in out  # as stored
    assert "format: Zoom saved closed captions" in out
    assert "19:00:25 Experimenter: Okay, so we're recording now." in out
    assert "note: not dialogue" in out and "Koronavírus" in out
    assert "would not import: line 3: bad cue timing" in out
    assert run(study, "transcripts", "--format", "json").output.strip() == "[]"


def test_a_real_import_shows_its_notes_and_warnings(study, tmp_path):
    glued = tmp_path / "glued.txt"
    glued.write_text(f"Ann: Hello?\nBob: {' '.join(['word'] * 400)}\nAnn: Thanks.\n",
                     encoding="utf-8")
    result = run(study, "import", str(glued))
    assert result.exit_code == 0
    assert f"warning: {glued}: Bob holds 99% of the words" in result.output
    lecture = _write(FIXTURES["lecture-one-voice"], tmp_path)
    result = run(study, "import", str(lecture), "--pause", "2.5")
    assert "note: no speaker names: cues joined into paragraphs, split at pauses of 2.5 s" \
        in result.output


def test_importing_again_with_another_pause_needs_replace(study, tmp_path):
    lecture = _write(FIXTURES["lecture-one-voice"], tmp_path)
    assert run(study, "import", str(lecture)).exit_code == 0
    again = run(study, "import", str(lecture), "--pause", "0.05")
    assert again.exit_code == 1 and "it was imported with --pause 2; pass --replace" in again.output
    assert run(study, "import", str(lecture), "--pause", "0.05", "--replace").exit_code == 0
    assert len(json.loads(run(study, "segments", "lecture", "--format", "json").output)) > 9


def test_names_in_the_studys_speakers_csv_count_as_speakers(study, tmp_path):
    (study.transcripts_dir / "speakers.csv").write_text("speaker,role\nKoronavírus,editor\n",
                                                        encoding="utf-8")
    article = _write(FIXTURES["article-not-dialogue"], tmp_path)
    assert run(study, "import", str(article)).exit_code == 0
    segments = json.loads(run(study, "segments", "hirek", "--format", "json").output)
    assert segments[0]["speaker"] == "Koronavírus"


def test_pdf_segments_cite_their_page(study, tmp_path):
    pdf = write_pdf(tmp_path / "policy.pdf", [
        ["Interviewer: What changed in the first year?",
         "Nurse Lee: The rota. It changed twice."],
        ["Interviewer: And the second year?",
         "Nurse Lee: Staffing improved, slowly."]])
    result = run(study, "import", str(pdf))
    assert result.exit_code == 0, result.output
    segments = json.loads(run(study, "segments", "policy", "--format", "json").output)
    assert [s["page"] for s in segments] == [1, 1, 2, 2]
    assert "p. 2" in run(study, "segments", "policy").output
    run(study, "code", "add", "staffing")
    assert run(study, "code", "apply", "policy", "4", "staffing").exit_code == 0
    with open_store(study) as store:
        bank = build_bank(store, study="t", coder="tester", options=Options(),
                          codes=["staffing"])
    assert bank.codes[0].quotes[0].citation == "policy ¶4, Nurse Lee, p. 2"


def test_a_survey_quote_cites_the_question(study, tmp_path):
    sheet = _write(FIXTURES["qualtrics-csv"], tmp_path)
    assert run(study, "import", str(sheet), "--text-column", "Q3").exit_code == 0
    run(study, "code", "add", "coaching")
    assert run(study, "code", "apply", "coaching-survey", "1", "coaching").exit_code == 0
    with open_store(study) as store:
        bank = build_bank(store, study="t", coder="tester", options=Options(),
                          codes=["coaching"])
    assert bank.codes[0].quotes[0].citation == (
        "coaching-survey ¶1, R_1abcDEFghi, answering “What would make the coaching program "
        "better?”")


def test_preview_refuses_refi_projects_rather_than_importing_them(study, tmp_path):
    project = tmp_path / "their.qdpx"
    project.write_bytes(b"PK\x03\x04")
    before = snapshot(study)
    result = run(study, "import", "--preview", str(project))
    assert result.exit_code == 1 and "not REFI-QDA projects" in result.output
    assert snapshot(study) == before


def test_sync_says_what_it_guessed(study):
    _write(FIXTURES["article-not-dialogue"], study.transcripts_dir)
    result = run(study, "sync")
    assert "imported: hirek (3 segments)" in result.output
    assert "note: not dialogue" in result.output


def test_a_broken_pdf_gets_one_line_and_changes_nothing(study, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n\x00\x01 not really a pdf")
    before = snapshot(study)
    result = run(study, "import", str(broken))
    assert result.exit_code == 1
    assert result.output.strip() == f"coder: error: {broken}: not a readable PDF file"
    assert snapshot(study) == before


def test_a_podcast_episode_named_changelog_is_not_taken_for_a_changelog(study, tmp_path):
    folder = tmp_path / "episodes"
    folder.mkdir()
    (folder / "changelog-42.md").write_text(PODCAST_MD, encoding="utf-8")
    (folder / "CHANGELOG.md").write_text("## 1.0\n- first\n", encoding="utf-8")
    result = run(study, "import", str(folder))
    assert "imported: changelog-42 (4 segments)" in result.output
    assert "CHANGELOG" not in result.output


def test_preview_shows_control_characters_instead_of_sending_them(study, tmp_path):
    """A file's escape sequences must not retitle or clear the researcher's terminal."""
    hostile = tmp_path / "ctrl.txt"
    hostile.write_bytes(b"Interviewer: Hi\nR: \x1b]0;pwned\x07hello \x1b[2Jthere\n"
                        b"Interviewer: ok\nR: fine\n")
    result = run(study, "import", "--preview", str(hostile))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "R: ␛]0;pwned␇hello ␛[2Jthere" in result.output
