"""Undo and redo from the event log: exact, per coder, across restarts, stopped by imports."""

from __future__ import annotations

import json

import pytest

from coder.errors import CoderError
from coder.store.codes import add_code
from coder.store.codings import apply_coding, mark_reviewed, remove_coding
from coder.store.db import Store
from coder.store.history import history, redo, undo
from conftest import INTERVIEW, run, snapshot

T = "ephrata-interview"


def state(study) -> dict[str, list]:
    """What a user sees: codes, codings, reviewed marks and memos (not the event log)."""
    snap = snapshot(study)
    return {t: snap[t] for t in ("codes", "codings", "reviewed", "memos")}


def store_for(study, coder: str = "tester") -> Store:
    return Store(study.db_path, coder=coder, command="test")


def seg(store: Store, ordinal: int) -> int:
    return store.scalar("SELECT id FROM segments WHERE ordinal = ?", (ordinal,))


def code(store: Store, name: str) -> int:
    return store.scalar("SELECT id FROM codes WHERE name = ?", (name,))


def codings(store: Store) -> list[tuple[int, str, str]]:
    return [(r["ordinal"], r["name"], r["coder"]) for r in store.rows(
        """SELECT s.ordinal, c.name, g.coder FROM codings g JOIN segments s ON s.id = g.segment_id
           JOIN codes c ON c.id = g.code_id ORDER BY s.ordinal, c.name, g.coder""")]


def test_apply_undo_redo_undo_returns_each_state_exactly(demo):
    before = state(demo)
    assert run(demo, "code", "apply", T, "2", "need targeted PD", "--memo",
               "asks for coaching").exit_code == 0
    assert run(demo, "review", T, "--segments", "3").exit_code == 0
    after = state(demo)

    first = run(demo, "undo")
    assert first.exit_code == 0
    assert first.output.startswith(f"undid: marked {T} ¶3 reviewed")
    # Coding ¶2 marked it reviewed (coded means looked at): undone with the coding.
    assert run(demo, "undo").output.startswith(f"undid: coded {T} ¶2 'need targeted PD'")
    assert state(demo) == before

    assert run(demo, "redo").output.startswith(f"redid: coded {T} ¶2 'need targeted PD'")
    assert run(demo, "redo").output.startswith(f"redid: marked {T} ¶3 reviewed")
    # The very same rows: same coding id, memo, origin and times.
    assert state(demo) == after
    assert run(demo, "redo").output == "Nothing to redo.\n"

    run(demo, "undo")
    run(demo, "undo")
    assert state(demo) == before


def test_undo_works_after_the_study_is_closed_and_opened_again(demo):
    with store_for(demo) as store:
        target = seg(store, 4)
        apply_coding(store, target, code(store, "islands of innovation"), coder="tester")
    with store_for(demo) as store:  # a new session: nothing but the event log remembers
        result = undo(store, "tester")
        assert result.message == f"undid: coded {T} ¶4 'islands of innovation'"
        assert result.segment_ids == [target]
        assert codings(store) == []
    with store_for(demo) as store:
        assert redo(store, "tester").segment_ids == [target]
        assert codings(store) == [(4, "islands of innovation", "tester")]


def test_a_change_to_several_segments_in_one_transaction_undoes_as_one(demo):
    with store_for(demo) as store:
        ids = [seg(store, n) for n in (2, 3, 4)]
        pd = code(store, "need targeted PD")
        with store.transaction("toggle"):
            for segment in ids:
                apply_coding(store, segment, pd, coder="tester")
            mark_reviewed(store, ids, coder="tester")
        result = undo(store, "tester")
        # Coding marked them reviewed already (coded means looked at): it goes unsaid.
        assert result.message == f"undid: coded {T} ¶2–4 'need targeted PD'"
        assert result.segment_ids == sorted(ids)
        assert result.changes == 6
        assert codings(store) == [] and store.scalar("SELECT count(*) FROM reviewed") == 0
        # Next is the sync that imported the demo: a barrier, and nothing changes.
        with pytest.raises(CoderError,
                           match=r"cannot undo past `coder sync` \(change 1 in `coder history`"):
            undo(store, "tester")
        assert codings(store) == []


def test_undoing_a_removal_restores_the_coding_as_it_was(demo):
    with store_for(demo) as store:
        segment, islands = seg(store, 4), code(store, "islands of innovation")
        apply_coding(store, segment, islands, coder="tester", origin="suggestion",
                     memo="classic islands", span=(200, 230))
        original = store.rows("SELECT * FROM codings")
        remove_coding(store, segment, islands, coder="tester")
        assert store.rows("SELECT * FROM codings") == []
        result = undo(store, "tester")
        assert result.message == f"undid: removed 'islands of innovation' from words in {T} ¶4"
        assert store.rows("SELECT * FROM codings") == original  # same id, span, memo, time


def test_a_new_change_clears_what_could_be_redone(demo):
    with store_for(demo) as store:
        pd, islands = code(store, "need targeted PD"), code(store, "islands of innovation")
        apply_coding(store, seg(store, 2), pd, coder="tester")
        undo(store, "tester")
        apply_coding(store, seg(store, 4), islands, coder="tester")
        assert redo(store, "tester") is None  # the undone ¶2 coding is gone for good
        assert codings(store) == [(4, "islands of innovation", "tester")]
        assert undo(store, "tester").message == f"undid: coded {T} ¶4 'islands of innovation'"
        assert redo(store, "tester").message == f"redid: coded {T} ¶4 'islands of innovation'"
        assert redo(store, "tester") is None
        assert codings(store) == [(4, "islands of innovation", "tester")]


def test_undo_and_redo_are_last_in_first_out(demo):
    with store_for(demo) as store:
        pd = code(store, "need targeted PD")
        for n in (2, 3, 4):
            apply_coding(store, seg(store, n), pd, coder="tester")
        assert [undo(store, "tester").segment_ids for _ in range(2)] == \
            [[seg(store, 4)], [seg(store, 3)]]
        assert redo(store, "tester").segment_ids == [seg(store, 3)]
        # ¶4 is still undone: undo takes ¶3 (redone, the latest change in force) again.
        assert undo(store, "tester").segment_ids == [seg(store, 3)]
        assert undo(store, "tester").segment_ids == [seg(store, 2)]
        assert codings(store) == []
        assert [redo(store, "tester").segment_ids for _ in range(3)] == \
            [[seg(store, 2)], [seg(store, 3)], [seg(store, 4)]]
        assert redo(store, "tester") is None
        assert [n for n, _, _ in codings(store)] == [2, 3, 4]


def test_undo_stops_at_an_import_and_says_so(demo, tmp_path):
    assert run(demo, "code", "apply", T, "2", "need targeted PD").exit_code == 0
    extra = tmp_path / "second-interview.md"
    extra.write_text(INTERVIEW.replace("islands", "pockets"), encoding="utf-8")
    assert run(demo, "import", str(extra)).exit_code == 0
    before = state(demo)
    with store_for(demo) as store:
        batch = store.scalar("SELECT max(batch) FROM events")
    result = run(demo, "undo")
    assert result.exit_code == 1
    assert result.output == (f"coder: error: cannot undo past `coder import` (change {batch} "
                             "in `coder history`)\n")
    assert state(demo) == before  # the coding made before the import is still there


def test_a_codebook_load_is_a_barrier_but_a_code_added_by_hand_is_not(demo):
    assert run(demo, "code", "add", "peer observation", "--parent", "professional development",
               "--key", "w").exit_code == 0
    with store_for(demo) as store:
        row = store.one("SELECT * FROM codes WHERE name = 'peer observation'")
        assert undo(store, "tester").message == "undid: added code 'peer observation'"
        assert store.one("SELECT * FROM codes WHERE name = 'peer observation'") is None
        assert redo(store, "tester").message == "redid: added code 'peer observation'"
        assert store.one("SELECT * FROM codes WHERE name = 'peer observation'") == row
    assert run(demo, "codebook", "load", str(demo.codebooks_dir / "pl.yaml"),
               "--prune").exit_code == 0
    result = run(demo, "undo")
    assert result.exit_code == 1
    assert "cannot undo past `coder codebook load`" in result.output


def test_undoing_an_added_code_keeps_it_when_someone_has_used_it(demo):
    with store_for(demo) as store:
        new = add_code(store, "peer observation")
    with store_for(demo, "bo") as store:
        apply_coding(store, seg(store, 2), new, coder="bo")
    with store_for(demo) as store:
        result = undo(store, "tester")
        assert "kept code 'peer observation': it has codings now" in result.message
        assert codings(store) == [(2, "peer observation", "bo")]


def test_one_coders_undo_never_touches_another_coders_work(demo):
    assert run(demo, "code", "apply", T, "2", "need targeted PD", coder="ann").exit_code == 0
    assert run(demo, "code", "apply", T, "2", "need targeted PD", coder="bo").exit_code == 0
    assert run(demo, "review", T, "--segments", "3", coder="bo").exit_code == 0
    assert run(demo, "undo", coder="ann").output.startswith(
        f"undid: coded {T} ¶2 'need targeted PD'")
    reviewed = "SELECT coder, segment_id FROM reviewed ORDER BY coder, segment_id"
    with store_for(demo) as store:
        assert codings(store) == [(2, "need targeted PD", "bo")]
        # ann's reviewed mark went with her coding; bo's (from coding ¶2, and ¶3) stay
        assert [r["coder"] for r in store.rows(reviewed)] == ["bo", "bo"]
    assert run(demo, "undo", coder="ann").output == "Nothing to undo.\n"
    assert run(demo, "undo", coder="bo").output.startswith(f"undid: marked {T} ¶3 reviewed")
    assert run(demo, "redo", coder="ann").output.startswith("redid: coded")
    with store_for(demo) as store:
        assert codings(store) == [(2, "need targeted PD", "ann"), (2, "need targeted PD", "bo")]
        assert [r["coder"] for r in store.rows(reviewed)] == ["ann", "bo"]


def test_importing_other_coders_codings_is_a_barrier(demo, tmp_path):
    sheet = tmp_path / "team.csv"
    sheet.write_text(f"transcript,segment,code,coder\n{T},2,need targeted PD,tester\n"
                     f"{T},4,islands of innovation,tester\n", encoding="utf-8")
    assert run(demo, "codings", "import", str(sheet)).exit_code == 0
    assert run(demo, "undo").output.startswith(f"undid: coded {T} ¶2 'need targeted PD'; "
                                               f"coded {T} ¶4 'islands of innovation'")
    sheet.write_text(f"transcript,segment,code,coder\n{T},2,need targeted PD,bo\n",
                     encoding="utf-8")
    assert run(demo, "codings", "import", str(sheet)).exit_code == 0
    result = run(demo, "undo")
    assert result.exit_code == 1
    assert "cannot undo past `coder codings import`" in result.output
    assert "it changed bo's work" in result.output


def test_a_restored_coding_keeps_its_id_unless_another_took_it(demo):
    with store_for(demo, "ann") as store, store_for(demo, "bo") as other:
        pd = code(store, "need targeted PD")
        apply_coding(store, seg(store, 2), pd, coder="ann")
        first = store.scalar("SELECT id FROM codings")
        remove_coding(store, seg(store, 2), pd, coder="ann")
        apply_coding(other, seg(store, 3), pd, coder="bo")  # SQLite hands bo the free id
        assert store.scalar("SELECT id FROM codings WHERE coder = 'bo'") == first
        result = undo(store, "ann")
        assert result.skipped == []
        assert codings(store) == [(2, "need targeted PD", "ann"), (3, "need targeted PD", "bo")]
        assert store.scalar("SELECT id FROM codings WHERE coder = 'ann'") != first


def test_undo_skips_what_is_already_gone_and_says_so(demo):
    run(demo, "code", "apply", T, "4", "islands of innovation", coder="ann")
    run(demo, "code", "merge", "islands of innovation", "need targeted PD", coder="bo")
    with store_for(demo) as store:
        result = undo(store, "ann")
        assert "was already gone" in result.message
        assert result.changes == 1  # only the reviewed mark that coding it made
        # The merged coding stays; the batch counts as undone.
        assert codings(store) == [(4, "need targeted PD", "ann")]
        assert undo(store, "ann") is None


def test_history_lists_changes_undos_and_barriers(demo):
    run(demo, "code", "apply", T, "2", "need targeted PD")
    run(demo, "review", T, "--segments", "2-3")
    run(demo, "code", "apply", T, "4", "islands of innovation", coder="ann")
    run(demo, "undo")
    with store_for(demo) as store:
        mine = history(store, "tester")
        everyone = history(store, limit=2)
    assert [(h["kind"], h["command"], h["undone"], h["undoable"]) for h in mine] == [
        ("undo", "undo", False, False), ("change", "review", True, True),
        ("change", "code apply", False, True), ("change", "sync", False, False)]
    assert mine[0]["target"] == mine[1]["batch"]
    assert mine[1]["summary"] == f"marked {T} ¶3 reviewed"  # coding ¶2 marked it already
    assert mine[1]["actions"] == {"review.add": 1}
    assert "transcript.import" in mine[3]["summary"]
    assert [h["coder"] for h in everyone] == ["tester", "ann"]

    rows = json.loads(run(demo, "history", "--all-coders", "--limit", "3", "--format",
                          "json").output)
    assert [r["coder"] for r in rows] == ["tester", "ann", "tester"]
    assert set(rows[0]) == {"batch", "time", "coder", "os_user", "command", "kind", "target",
                            "events", "actions", "summary", "undoable", "undone"}
    table = run(demo, "history").output
    assert "undone" in table and "islands" not in table  # ann's change is not in mine


def test_marks_made_by_moving_the_cursor_neither_block_undo_nor_clear_redo(demo):
    with store_for(demo) as store:
        apply_coding(store, seg(store, 2), code(store, "need targeted PD"), coder="tester")
        with store.transaction("review on move"):
            mark_reviewed(store, [seg(store, 2)], coder="tester")
        assert undo(store, "tester").message == f"undid: coded {T} ¶2 'need targeted PD'"
        with store.transaction("review on move"):
            mark_reviewed(store, [seg(store, 3)], coder="tester")
        assert redo(store, "tester").message == f"redid: coded {T} ¶2 'need targeted PD'"
        assert store.scalar("SELECT count(*) FROM reviewed") == 2


def test_undo_refuses_to_join_an_open_transaction(demo):
    with store_for(demo) as store, pytest.raises(RuntimeError), store.transaction():
        undo(store, "tester")




def test_renaming_and_moving_codes_undo_without_hiding_earlier_work(demo):
    from conftest import run

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    run(demo, "code", "rename", "need targeted PD", "targeted PD")
    run(demo, "code", "move", "targeted PD", "--parent", "school operations")
    shown = run(demo, "codebook", "show", "--format", "json").output
    assert '"parent": "school operations"' in shown
    assert "undid: moved code 'targeted PD' under 'school operations'" in run(demo, "undo").output
    assert "undid: renamed code 'need targeted PD' to 'targeted PD'" in run(demo, "undo").output
    assert "undid: coded ephrata-interview ¶2 'need targeted PD'" in run(demo, "undo").output
    import json

    codes = {c["name"]: c for c in json.loads(run(demo, "codebook", "show", "--format",
                                                  "json").output)}
    assert codes["need targeted PD"]["parent"] == "professional development"
    assert codes["need targeted PD"]["codings"] == 0
    assert "redid: coded ephrata-interview ¶2 'need targeted PD'" in run(demo, "redo").output
    assert "redid: renamed code 'need targeted PD' to 'targeted PD'" in run(demo, "redo").output


def test_accepting_and_rejecting_suggestions_undo_and_redo(demo):
    from coder.store import history
    from coder.store.feedback import accept_suggestion, reject_suggestion
    from conftest import open_store

    with open_store(demo) as store:
        store.coder = "tester"
        seg = store.scalar("SELECT id FROM segments WHERE ordinal = 2")
        pd = store.scalar("SELECT id FROM codes WHERE name = 'need targeted PD'")
        islands = store.scalar("SELECT id FROM codes WHERE name = 'islands of innovation'")
        accept_suggestion(store, seg, pd, coder="tester", score=0.8, sources=["rule"])
        reject_suggestion(store, seg, islands, coder="tester", score=0.4, sources=["prior"])

        def state():
            return (store.rows("SELECT code_id, origin FROM codings ORDER BY code_id"),
                    store.rows("SELECT code_id, verdict, score FROM suggestion_feedback "
                               "ORDER BY code_id"))

        both = state()
        assert both[1] == [{"code_id": pd, "verdict": "accept", "score": 0.8},
                           {"code_id": islands, "verdict": "reject", "score": 0.4}]
        assert "rejected the suggestion 'islands of innovation'" in history.undo(
            store, "tester").message
        assert history.undo(store, "tester") is not None
        assert state() == ([], [])
        assert "accepted the suggestion 'need targeted PD'" in history.redo(
            store, "tester").message
        assert "redid: rejected the suggestion 'islands of innovation'" in history.redo(
            store, "tester").message  # not "took back a verdict"
        assert state() == both
