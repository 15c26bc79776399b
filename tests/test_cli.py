"""The command line as a user drives it: studies, coding, reviewing, listing, exporting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from coder.study import find_study
from conftest import open_store, run, snapshot


def test_init_makes_a_study_and_keeps_an_existing_config(tmp_path):
    from click.testing import CliRunner

    from coder.cli import cli

    target = tmp_path / "my study"
    result = CliRunner().invoke(cli, ["init", str(target), "--name", 'Teachers "PD" study'])
    assert result.exit_code == 0, result.output
    for sub in ("codebooks", "transcripts", "exports"):
        assert (target / sub).is_dir()
    assert (target / "coder.db").is_file()
    assert "coder.db" in (target / ".gitignore").read_text()
    study = find_study(target / "transcripts")
    assert study.settings.name == 'Teachers "PD" study'
    (target / "coder.toml").write_text('[study]\nname = "Renamed"\nsegmentation = "sentence"\n')
    CliRunner().invoke(cli, ["init", str(target)])
    assert find_study(target).settings.segmentation == "sentence"


def test_the_study_is_found_upward_from_the_working_directory(demo, monkeypatch):
    from click.testing import CliRunner

    from coder.cli import cli

    monkeypatch.chdir(demo.transcripts_dir)
    result = CliRunner().invoke(cli, ["status", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["path"] == str(demo.root)


def test_outside_a_study_the_error_says_what_to_do(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from coder.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "no coder.toml here or in any parent folder" in result.output
    assert "coder init" in result.output


def test_a_broken_coder_toml_is_one_clear_line(study):
    (study.root / "coder.toml").write_text("[study\nname=", encoding="utf-8")
    result = run(study, "status")
    assert result.exit_code == 1
    assert "coder.toml: not valid TOML" in result.output


def test_status_counts_codings_and_reviewed_share_per_coder(demo):
    assert run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD",
               coder="ann").exit_code == 0
    assert run(demo, "review", "ephrata-interview", "--segments", "1-2,4",
               coder="ann").exit_code == 0
    assert run(demo, "review", "ephrata-interview", coder="bo").exit_code == 0
    data = json.loads(run(demo, "status", "--format", "json").output)
    assert (data["transcripts"], data["segments"], data["codes"], data["codings"]) == (1, 5, 5, 1)
    coders = {c["coder"]: c for c in data["coders"]}
    assert coders["ann"]["codings"] == 1
    assert coders["ann"]["reviewed"] == 3 and coders["ann"]["reviewed_share"] == 0.6
    assert coders["bo"]["reviewed"] == 5 and coders["bo"]["reviewed_share"] == 1.0


def test_apply_remove_and_segments_listing(demo):
    result = run(demo, "code", "apply", "ephrata-interview", "4", "Islands of Innovation",
                 "--memo", "classic islands")
    assert result.exit_code == 0 and "Coded ephrata-interview ¶4 'islands of innovation'" \
        in result.output
    again = run(demo, "code", "apply", "ephrata-interview", "4", "islands of innovation")
    assert "Already coded" in again.output
    rows = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    assert rows[3]["codes"] == ["islands of innovation"]
    assert rows[3]["speaker"] == "Dr. Jane Roe" and rows[3]["role"] == "teacher"
    assert rows[3]["time_start"] == 723.0
    with open_store(demo) as store:
        assert store.scalar("SELECT memo FROM codings") == "classic islands"
        assert store.scalar("SELECT coder FROM codings") == "tester"
    assert run(demo, "code", "remove", "ephrata-interview", "4",
               "islands of innovation").exit_code == 0
    missing = run(demo, "code", "remove", "ephrata-interview", "4", "islands of innovation")
    assert missing.exit_code == 1 and "does not have" in missing.output


def test_unknown_names_suggest_close_matches(demo):
    result = run(demo, "code", "apply", "ephrata-interview", "2", "need targetted PD")
    assert result.exit_code == 1
    assert "no code named 'need targetted PD' (did you mean 'need targeted PD'?)" in result.output
    result = run(demo, "code", "apply", "ephrata-intervew", "2", "need targeted PD")
    assert "did you mean 'ephrata-interview'" in result.output
    result = run(demo, "code", "apply", "ephrata-interview", "99", "need targeted PD")
    assert "has no segment 99 (it has 1–5)" in result.output


def test_review_marks_and_unmarks_and_rejects_bad_ranges(demo):
    assert "Marked 2 segments" in run(demo, "review", "ephrata-interview",
                                      "--segments", "2-3").output
    assert "Unmarked 1 segments" in run(demo, "review", "ephrata-interview", "--segments", "3",
                                        "--undo").output
    with open_store(demo) as store:
        reviewed = store.rows("SELECT s.ordinal FROM reviewed r JOIN segments s "
                              "ON s.id = r.segment_id")
    assert [r["ordinal"] for r in reviewed] == [2]
    before = snapshot(demo)
    for bad in ("3-1", "x", "2,9"):
        result = run(demo, "review", "ephrata-interview", "--segments", bad)
        assert result.exit_code == 1, bad
    assert snapshot(demo) == before


def test_code_tree_changes_carry_codings(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "4", "islands of innovation", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "2", "islands of innovation", coder="ann")
    assert run(demo, "code", "add", "coaching", "--parent", "professional development",
               "--definition", "Job-embedded coaching", "--key", "o").exit_code == 0
    assert run(demo, "code", "rename", "need targeted PD", "targeted PD").exit_code == 0
    result = run(demo, "code", "merge", "islands of innovation", "targeted PD")
    assert "1 codings moved, 1 were already there" in result.output
    assert run(demo, "code", "move", "targeted PD", "--parent", "school operations").exit_code == 0
    codes = {c["name"]: c for c in json.loads(run(demo, "codebook", "show", "--format",
                                                  "json").output)}
    assert "islands of innovation" not in codes
    assert codes["targeted PD"]["parent"] == "school operations"
    assert codes["targeted PD"]["codings"] == 2
    assert codes["coaching"]["key"] == "o"
    bad = run(demo, "code", "move", "school operations", "--parent", "targeted PD")
    assert bad.exit_code == 1 and "under itself" in bad.output
    clash = run(demo, "code", "add", "Coaching")
    assert clash.exit_code == 1 and "already exists" in clash.output
    taken = run(demo, "code", "add", "x", "--key", "t")
    assert taken.exit_code == 1 and "already used by 'seat-time mandates'" in taken.output


def test_codings_round_trip_through_csv(demo, tmp_path):
    sheet = tmp_path / "codings.csv"
    sheet.write_text("transcript,segment,code,coder,memo\n"
                     "ephrata-interview,2,need targeted PD,ann,asks for PD\n"
                     "ephrata-interview,5,seat-time mandates,bo,\n"
                     "ephrata-interview,5,Seat-Time Mandates,,\n", encoding="utf-8")
    result = run(demo, "codings", "import", str(sheet))
    assert result.exit_code == 0, result.output
    assert "3 codings added" in result.output
    again = run(demo, "codings", "import", str(sheet))
    assert "0 codings added, 3 already present" in again.output
    rows = json.loads(run(demo, "codings", "export", "--format", "json",
                          "--all-coders").output)
    assert [(r["segment"], r["code"], r["coder"], r["origin"]) for r in rows] == [
        (2, "need targeted PD", "ann", "import"),
        (5, "seat-time mandates", "bo", "import"),
        (5, "seat-time mandates", "tester", "import")]
    out = tmp_path / "out.csv"
    assert run(demo, "codings", "export", "--out", str(out)).exit_code == 0
    assert out.read_text().splitlines()[0].startswith("transcript,segment,code,coder,memo")
    assert len(out.read_text().splitlines()) == 2  # only my (tester's) coding


def test_a_codings_file_with_bad_rows_imports_nothing_and_lists_them(demo, tmp_path):
    before = snapshot(demo)
    sheet = tmp_path / "codings.csv"
    sheet.write_text("transcript,segment,code,coder\n"
                     "ephrata-interview,2,need targeted PD,ann\n"
                     "nowhere,2,need targeted PD,ann\n"
                     "ephrata-interview,two,need targeted PD,ann\n"
                     "ephrata-interview,77,need targeted PD,ann\n"
                     "ephrata-interview,3,no such code,ann\n", encoding="utf-8")
    result = run(demo, "codings", "import", str(sheet))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert f"{sheet}:3: no transcript named 'nowhere'" in lines[0]
    assert "segment 'two' is not a number" in lines[1]
    assert "has no segment 77" in lines[2]
    assert "no code named 'no such code'" in lines[3]
    assert "4 bad rows; no codings were imported" in lines[4]
    assert snapshot(demo) == before
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("file,para,tag\na,1,b\n", encoding="utf-8")
    result = run(demo, "codings", "import", str(wrong))
    assert result.exit_code == 1
    assert "missing column(s) transcript, segment, code" in result.output


def test_spreadsheet_exports_neutralise_formulas(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD",
        "--memo", "=HYPERLINK(\"http://evil\")")
    text = run(demo, "codings", "export", "--format", "csv").output
    assert "'=HYPERLINK" in text


def test_search_finds_words_across_the_study(demo):
    rows = json.loads(run(demo, "search", "schedule", "--format", "json").output)
    assert [(r["segment"], r["speaker"]) for r in rows] == [(5, "Mark Lee")]
    assert "[schedule]" in rows[0]["snippet"]


def test_help_is_instant_and_imports_no_heavy_library():
    code = ("import sys; from coder.cli import cli; from click.testing import CliRunner; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0; "
            "heavy = [m for m in ('spacy', 'sklearn', 'pandas', 'textual', 'sqlite_utils') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"




def test_the_installed_command_reports_errors_without_a_traceback(demo, tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    exe = Path(sys.executable).with_name("coder")
    env = {**os.environ, "CODER_NAME": "tester"}
    out = subprocess.run([str(exe), "import", str(bad), "--study", str(demo.root)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert str(bad) in out.stderr and "binary" in out.stderr


def test_without_a_terminal_coder_syncs_and_shows_the_status(demo):
    (demo.transcripts_dir / "second.md").write_text("Ann: A second interview.\n",
                                                    encoding="utf-8")
    result = run(demo, "tui")
    assert result.exit_code == 0, result.output
    assert "imported: second (1 segment)" in result.output
    assert "Not a terminal, so the workbench does not open" in result.output
    assert "2 transcripts" in result.output


def test_exclusive_choices_replace_each_other(demo, tmp_path):
    from conftest import CODEBOOK

    (demo.codebooks_dir / "pl.yaml").write_text(CODEBOOK + """\
  - name: stance on PD
    exclusive: true
    children:
      - name: PD seen as effective
      - name: PD seen as insufficient
""", encoding="utf-8")
    assert run(demo, "sync").exit_code == 0
    run(demo, "code", "apply", "ephrata-interview", "2", "PD seen as effective")
    run(demo, "code", "apply", "ephrata-interview", "2", "PD seen as insufficient")
    rows = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    assert rows[1]["codes"] == ["PD seen as insufficient"]
    group = run(demo, "code", "apply", "ephrata-interview", "2", "stance on PD")
    assert group.exit_code == 1
    assert "is a group of exclusive choices: apply one of 'PD seen as effective'" in group.output
    assert "undid" in run(demo, "undo").output
    rows = json.loads(run(demo, "segments", "ephrata-interview", "--format", "json").output)
    assert rows[1]["codes"] == ["PD seen as effective"]
    sheet = tmp_path / "c.csv"
    sheet.write_text("transcript,segment,code,coder\n"
                     "ephrata-interview,3,PD seen as effective,ann\n"
                     "ephrata-interview,3,PD seen as insufficient,ann\n", encoding="utf-8")
    result = run(demo, "codings", "import", str(sheet))
    assert result.exit_code == 1
    assert "c.csv:3: a second choice of the exclusive group 'stance on PD'" in result.output


def test_remove_a_transcript_only_with_force_when_coded(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    refused = run(demo, "remove", "ephrata-interview")
    assert refused.exit_code == 1 and "has 1 coding(s); pass --force" in refused.output
    done = run(demo, "remove", "ephrata-interview", "--force")
    assert done.exit_code == 0 and "Removed ephrata-interview (5 segments, 1 coding)" in done.output
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM segments") == 0
        assert store.scalar("SELECT count(*) FROM codings") == 0
    assert json.loads(run(demo, "search", "schedule", "--format", "json").output) == []
    assert run(demo, "import", str(demo.transcripts_dir / "ephrata-interview.md")).exit_code == 0


def test_refi_qda_files_go_through_import_and_init_from(demo, tmp_path):
    from click.testing import CliRunner

    from coder.cli import cli

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    archive = tmp_path / "study.qdpx"
    assert run(demo, "export", "qdpx", str(archive)).exit_code == 0
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(cli, ["init", str(fresh), "--from", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 transcript, 1 coding from 1 selection" in result.output
    other = CliRunner().invoke(cli, ["init", str(tmp_path / "other")])
    assert other.exit_code == 0
    from coder.study import open_study

    target = open_study(tmp_path / "other")
    imported = run(target, "import", str(archive), "--offsets", "codepoints", "--reviewed")
    assert imported.exit_code == 0, imported.output
    data = json.loads(run(target, "status", "--format", "json").output)
    assert (data["transcripts"], data["codings"]) == (1, 1)
    assert data["coders"][0]["reviewed"] > 0  # --reviewed: the coder's work counts
    mixed = run(target, "import", str(archive), str(demo.transcripts_dir / "ephrata-interview.md"))
    assert mixed.exit_code == 1 and "on their own" in mixed.output
    bank = run(demo, "export", "quotes", "--out", "-", "--format", "json")
    assert bank.exit_code == 0 and json.loads(bank.output)["codes"][0]["quotes"]
