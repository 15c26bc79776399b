"""`coder merge`: another copy's work comes in once, conflicts are reported, nothing else."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from coder.errors import CoderError
from coder.store.merge import merge_study
from coder.study import init_study
from conftest import CODEBOOK, INTERVIEW, open_store, run, snapshot

OTHER_INTERVIEW = """\
Interviewer: What changed in your school?

Ms. Ada Park: Scheduling. We finally have common planning time.
"""


@pytest.fixture
def copy(demo, tmp_path):
    """A second copy of the demo study (same files), as a second coder would have it."""
    other = init_study(tmp_path / "ben-copy", "Test study")
    (other.transcripts_dir / "ephrata-interview.md").write_text(INTERVIEW, encoding="utf-8")
    (other.codebooks_dir / "pl.yaml").write_text(CODEBOOK, encoding="utf-8")
    assert run(other, "sync").exit_code == 0
    return other


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_merge_brings_in_codings_marks_memos_and_codes_once(demo, copy) -> None:
    _ok(run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ana"))
    _ok(run(demo, "review", "ephrata-interview", "--segments", "1-3", coder="ana"))
    _ok(run(copy, "code", "add", "peer observation", "--parent", "professional development",
            "--definition", "Teachers watching each other teach.", coder="ben"))
    _ok(run(copy, "code", "apply", "ephrata-interview", "2", "need targeted PD",
            "--memo", "asks for coaching", coder="ben"))
    _ok(run(copy, "code", "apply", "ephrata-interview", "4", "peer observation", coder="ben"))
    _ok(run(copy, "review", "ephrata-interview", "--segments", "1-4", coder="ben"))
    _ok(run(copy, "memo", "set", "--segment", "ephrata-interview", "2", "Compare with 4",
            coder="ben"))
    _ok(run(copy, "memo", "set", "--code", "peer observation", "Rare so far", coder="ben"))
    before_other = _digest(copy.db_path)

    out = _ok(run(demo, "merge", str(copy.root), coder="lead"))
    assert "Merged" in out and "2 codings, 4 reviewed marks, 2 memos, 1 code" in out
    with open_store(demo) as store:
        rows = store.rows("""SELECT s.ordinal, c.name, g.coder, g.origin, g.memo
                             FROM codings g JOIN segments s ON s.id = g.segment_id
                             JOIN codes c ON c.id = g.code_id ORDER BY g.coder, s.ordinal""")
        assert [(r["ordinal"], r["name"], r["coder"]) for r in rows] == [
            (2, "need targeted PD", "ana"), (2, "need targeted PD", "ben"),
            (4, "peer observation", "ben")]
        assert rows[1]["memo"] == "asks for coaching" and rows[1]["origin"] == "manual"
        code = store.one("SELECT c.*, p.name AS parent FROM codes c JOIN codes p "
                         "ON p.id = c.parent_id WHERE c.name = 'peer observation'")
        assert code["parent"] == "professional development"
        assert code["definition"] == "Teachers watching each other teach."
        assert store.scalar("SELECT count(*) FROM reviewed WHERE coder = 'ben'") == 4
        memos = store.rows("SELECT kind, coder, text FROM memos ORDER BY kind")
        assert [(m["kind"], m["text"]) for m in memos] == [("code", "Rare so far"),
                                                           ("segment", "Compare with 4")]
        actions = [r["action"] for r in store.rows(
            "SELECT action FROM events WHERE command = 'merge' ORDER BY id")]
        assert actions.count("coding.add") == 2 and actions.count("review.add") == 4
        assert actions[0] == "code.add" and actions[-1] == "study.merge"
    assert _digest(copy.db_path) == before_other  # the other copy is only read

    # Merging again changes nothing at all, not even the event log.
    state = snapshot(demo)
    out = _ok(run(demo, "merge", str(copy.db_path), coder="lead"))
    assert "Nothing new to merge" in out
    assert snapshot(demo) == state


def test_coder_map_and_dry_run(demo, copy) -> None:
    _ok(run(copy, "code", "apply", "ephrata-interview", "3", "islands of innovation",
            coder="coder"))
    state = snapshot(demo)
    out = _ok(run(demo, "merge", str(copy.root), "--coder-map", "coder=ben", "--dry-run"))
    assert "Would merge" in out and "(coder as ben)" in out
    assert snapshot(demo) == state
    data = json.loads(_ok(run(demo, "merge", str(copy.root), "--coder-map", "coder=ben",
                              "--format", "json")))
    assert data["coders"] == {"coder": "ben"} and data["codings_added"] == 1
    with open_store(demo) as store:
        assert store.scalar("SELECT coder FROM codings") == "ben"
    result = run(demo, "merge", str(copy.root), "--coder-map", "zed=ben")
    assert result.exit_code == 1
    assert "--coder-map names coder(s) the other study does not have: zed" in result.output
    assert run(demo, "merge", str(copy.root), "--coder-map", "ben").exit_code == 1


def test_conflicts_are_reported_never_dropped_silently(demo, copy) -> None:
    # A transcript only the copy has, with work on it.
    (copy.transcripts_dir / "park.md").write_text(OTHER_INTERVIEW, encoding="utf-8")
    _ok(run(copy, "sync"))
    _ok(run(copy, "code", "apply", "park", "2", "seat-time mandates", coder="ben"))
    # A code renamed in the copy: its work lands on the code here, with a conflict.
    _ok(run(copy, "code", "rename", "islands of innovation", "innovation islands"))
    _ok(run(copy, "code", "apply", "ephrata-interview", "4", "innovation islands", coder="ben"))
    # Different memos by the same coder on the same segment.
    _ok(run(demo, "memo", "set", "--segment", "ephrata-interview", "2", "mine", coder="ben"))
    _ok(run(copy, "memo", "set", "--segment", "ephrata-interview", "2", "theirs", coder="ben"))
    # A segment whose text differs at the same offsets (edited outside coder).
    _ok(run(copy, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="ben"))
    with sqlite3.connect(copy.db_path) as conn:
        conn.execute("UPDATE segments SET text = text || '!' WHERE ordinal = 5")
    out = _ok(run(demo, "merge", str(copy.root)))
    assert "Conflict (transcript missing): transcript 'park': not in this study; " \
           "1 coding, 1 reviewed mark not merged" in out  # coding it marked it reviewed
    assert "Conflict (code renamed): code 'innovation islands' was renamed there from " \
           "'islands of innovation'" in out
    assert "Conflict (memo differs): ben's memo on ephrata-interview ¶2 differs; kept " \
           "this study's" in out
    assert "Conflict (segment differs): ephrata-interview ¶5: the text at the same offsets " \
           "differs here; 1 coding, 1 reviewed mark not merged" in out
    with open_store(demo) as store:
        rows = store.rows("""SELECT s.ordinal, c.name FROM codings g
                             JOIN segments s ON s.id = g.segment_id
                             JOIN codes c ON c.id = g.code_id WHERE g.coder = 'ben'""")
        assert [(r["ordinal"], r["name"]) for r in rows] == [(4, "islands of innovation")]
        assert store.scalar("SELECT text FROM memos WHERE coder = 'ben'") == "mine"
        assert not store.scalar("SELECT 1 FROM codes WHERE name = 'innovation islands'")
        (event,) = store.rows("SELECT payload FROM events WHERE action = 'study.merge'")
        assert len(json.loads(event["payload"])["conflicts"]) == 4


def test_a_transcript_changed_here_is_a_conflict(demo, copy) -> None:
    _ok(run(copy, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ben"))
    (demo.transcripts_dir / "ephrata-interview.md").write_text(
        INTERVIEW.replace("seat time", "seat-time rules"), encoding="utf-8")
    _ok(run(demo, "import", str(demo.transcripts_dir / "ephrata-interview.md"), "--replace"))
    out = _ok(run(demo, "merge", str(copy.root)))
    assert "Conflict (transcript differs): transcript 'ephrata-interview': a transcript of " \
           "that name here has other content" in out


def test_bad_other_studies_are_one_line_errors(demo, tmp_path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all\n" * 20)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    sqlite3.connect(tmp_path / "foreign.db").execute("CREATE TABLE codings (x)").connection \
        .commit()
    state = snapshot(demo)
    cases = [(junk, "not a coder study database"), (empty, "not a coder study database"),
             (tmp_path / "foreign.db", "not a coder study database (no table transcripts)"),
             (tmp_path / "nowhere", "no such file or folder"),
             (tmp_path, "no coder.db here (not a coder study)"),
             (demo.root, "that is this study's own database")]
    for path, message in cases:
        result = run(demo, "merge", str(path))
        assert result.exit_code == 1, path
        assert message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert snapshot(demo) == state


def test_a_view_posing_as_a_table_is_refused(demo, copy) -> None:
    # A crafted database whose "codings" is a view: nothing in it is run.
    with sqlite3.connect(copy.db_path) as conn:
        conn.execute("ALTER TABLE codings RENAME TO real_codings")
        conn.execute("CREATE VIEW codings AS SELECT * FROM real_codings")
    with open_store(demo) as store, pytest.raises(CoderError, match="no table codings"):
        merge_study(store, copy.root)


STANCE = """\
codes:
  - name: stance on PD
    exclusive: true
    children: [{name: PD effective}, {name: PD insufficient}]
"""


def test_a_different_exclusive_choice_by_the_same_coder_is_a_conflict(demo, copy) -> None:
    for study in (demo, copy):
        (study.codebooks_dir / "stance.yaml").write_text(STANCE, encoding="utf-8")
        _ok(run(study, "sync"))
    _ok(run(demo, "code", "apply", "ephrata-interview", "2", "PD effective", coder="ben"))
    _ok(run(copy, "code", "apply", "ephrata-interview", "2", "PD insufficient", coder="ben"))
    _ok(run(copy, "code", "apply", "ephrata-interview", "3", "PD insufficient", coder="ben"))
    out = _ok(run(demo, "merge", str(copy.root)))
    assert "Conflict (exclusive choice differs): ephrata-interview ¶2: ben chose " \
           "'PD insufficient' there and 'PD effective' here, in the exclusive group " \
           "'stance on PD'; kept this study's" in out
    with open_store(demo) as store:
        rows = store.rows("""SELECT s.ordinal, c.name FROM codings g
                             JOIN segments s ON s.id = g.segment_id
                             JOIN codes c ON c.id = g.code_id ORDER BY s.ordinal""")
    assert [(r["ordinal"], r["name"]) for r in rows] == [(2, "PD effective"),
                                                         (3, "PD insufficient")]


def test_the_reconciliation_trail_comes_along_once(demo, copy) -> None:
    from coder import reconcile

    for coder in ("ana", "ben"):
        _ok(run(copy, "review", "ephrata-interview", "--segments", "2", coder=coder))
    _ok(run(copy, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ana"))
    _ok(run(copy, "reconcile", "--segment", "ephrata-interview", "2", "--take", "ana",
            "--note", "ana is right", coder="lead"))
    out = _ok(run(demo, "merge", str(copy.root)))
    assert "1 consensus decision" in out
    with open_store(demo) as store:
        (row,) = reconcile.trail(store)
        assert (row["ordinal"], row["note"], row["codes"]) == (2, "ana is right",
                                                               ["need targeted PD"])
        assert store.scalar("SELECT count(*) FROM codings WHERE coder = 'consensus' AND "
                            "origin = 'consensus'") == 1
    state = snapshot(demo)
    _ok(run(demo, "merge", str(copy.root)))
    assert snapshot(demo) == state


def test_a_copy_made_from_this_studys_own_export_merges_back(demo, tmp_path) -> None:
    """A lead sends a coder a .qdpx; the coder's study made from it merges back."""
    qdpx = tmp_path / "study.qdpx"
    _ok(run(demo, "export", "qdpx", str(qdpx)))
    fresh = tmp_path / "from-export"
    from click.testing import CliRunner

    from coder.cli import cli
    from coder.study import open_study

    made = CliRunner().invoke(cli, ["init", str(fresh), "--from", str(qdpx)])
    assert made.exit_code == 0, made.output
    other = open_study(fresh)
    _ok(run(other, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="bo"))
    out = _ok(run(demo, "merge", str(fresh)))
    assert "1 transcripts matched" in out or "1 transcript matched" in out, out
    assert "Conflict" not in out
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM codings WHERE coder = 'bo'") == 1
