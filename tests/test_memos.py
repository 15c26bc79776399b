"""Memos on segments, codes, transcripts and the study: writing, listing, undoing, the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from coder.cli import cli
from coder.errors import CoderError
from coder.store.db import Store
from coder.store.history import redo, undo
from coder.store.memos import get_memo, list_memos, memo_target, set_memo
from conftest import run, snapshot

T = "ephrata-interview"


def store_for(study, coder: str = "tester") -> Store:
    return Store(study.db_path, coder=coder, command="test")


def events(store: Store, action: str) -> list[dict]:
    return [json.loads(r["payload"]) for r in store.rows(
        "SELECT payload FROM events WHERE action = ? ORDER BY id", (action,))]


def test_a_memo_is_added_edited_and_deleted_with_every_step_logged(demo):
    with store_for(demo) as store:
        kind, target = memo_target(store, segment=(T, 2))
        assert set_memo(store, kind, target, "tester", "  asks for coaching\n") == "added"
        memo = get_memo(store, kind, target, "tester")
        assert memo["text"] == "asks for coaching"
        assert set_memo(store, kind, target, "tester", "asks for coaching") == "unchanged"
        assert set_memo(store, kind, target, "tester", "asks for job-embedded coaching") == \
            "edited"
        edited = get_memo(store, kind, target, "tester")
        assert edited["id"] == memo["id"] and edited["created_at"] == memo["created_at"]
        assert events(store, "memo.edit")[0] | {"updated_at": None, "old_updated_at": None} == {
            "memo_id": memo["id"], "kind": "segment", "target_id": target, "coder": "tester",
            "old": "asks for coaching", "new": "asks for job-embedded coaching",
            "updated_at": None, "old_updated_at": None}
        assert set_memo(store, kind, target, "tester", "   ") == "deleted"
        assert get_memo(store, kind, target, "tester") is None
        deleted = events(store, "memo.delete")[0]
        assert deleted == {"memo_id": memo["id"], **{k: edited[k] for k in (
            "kind", "target_id", "coder", "text", "created_at", "updated_at")}}
        assert set_memo(store, kind, target, "tester", "") == "unchanged"
        assert len(events(store, "memo.add")) == 1


def test_each_coder_has_one_memo_per_target(demo):
    with store_for(demo) as store:
        kind, target = memo_target(store, code="need targeted PD")
        set_memo(store, kind, target, "ann", "ann's view")
        set_memo(store, kind, target, "bo", "bo's view")
        set_memo(store, kind, target, "ann", "ann's second thoughts")
        assert store.scalar("SELECT count(*) FROM memos") == 2
        assert get_memo(store, kind, target, "ann")["text"] == "ann's second thoughts"
        assert get_memo(store, kind, target, "bo")["text"] == "bo's view"
        assert get_memo(store, "code", target, "cy") is None


def test_listing_names_each_target_in_words_in_document_order(demo):
    with store_for(demo) as store:
        for selector, text in [({"segment": (T, 4)}, "islands, again"),
                               ({"segment": (T, 2)}, "targeted PD"),
                               ({"code": "islands of innovation"}, "rare code"),
                               ({"transcript": T}, "a good interview"),
                               ({"study": True}, "the big picture")]:
            set_memo(store, *memo_target(store, **selector), "tester", text)
        set_memo(store, *memo_target(store, study=True), "bo", "bo's picture")
        rows = list_memos(store, coder="tester")
        assert [(r["kind"], r["target"], r["text"]) for r in rows] == [
            ("study", "the study", "the big picture"),
            ("transcript", T, "a good interview"),
            ("code", "islands of innovation", "rare code"),
            ("segment", f"{T} ¶2", "targeted PD"),
            ("segment", f"{T} ¶4", "islands, again")]
        assert (rows[3]["transcript"], rows[3]["segment"]) == (T, 2)
        assert [r["coder"] for r in list_memos(store, kind="study")] == ["bo", "tester"]
        assert len(list_memos(store)) == 6


def test_bad_targets_are_refused(demo):
    with store_for(demo) as store:
        with pytest.raises(CoderError, match="not 'note'"):
            set_memo(store, "note", 1, "tester", "x")
        with pytest.raises(CoderError, match="no segment with id 9999"):
            set_memo(store, "segment", 9999, "tester", "x")
        with pytest.raises(CoderError, match="has no segment 9"):
            memo_target(store, segment=(T, 9))
        with pytest.raises(CoderError, match="choose one memo target"):
            memo_target(store, code="need targeted PD", study=True)
        assert store.scalar("SELECT count(*) FROM memos") == 0


def test_undo_and_redo_of_memos_restore_text_and_times_exactly(demo):
    def memos():
        return snapshot(demo)["memos"]

    with store_for(demo) as store:
        kind, target = memo_target(store, transcript=T)
        empty = memos()
        set_memo(store, kind, target, "tester", "first")
        added = memos()
        set_memo(store, kind, target, "tester", "second")
        edited = memos()
        set_memo(store, kind, target, "tester", "")
        assert memos() == []
        assert undo(store).message == f"undid: deleted a memo on transcript '{T}'"
        assert memos() == edited  # same id, text, created and updated times
        assert undo(store).message == f"undid: edited a memo on transcript '{T}'"
        assert memos() == added
        assert undo(store).message == f"undid: wrote a memo on transcript '{T}'"
        assert memos() == empty
        for expected in (added, edited, []):
            redo(store)
            assert memos() == expected


def test_memo_commands_end_to_end(demo):
    ok = run(demo, "memo", "set", "--segment", T, "2", "Asks for coaching")
    assert ok.exit_code == 0 and ok.output == f"Added memo on {T} ¶2 (tester)\n"
    stdin = CliRunner().invoke(cli, ["memo", "set", "--whole-study", "-", "--study",
                                     str(demo.root)], input="Line one\nline two\n")
    assert stdin.exit_code == 0, stdin.output
    assert run(demo, "memo", "set", "--code", "need targeted PD", "Often requested",
               coder="bo").exit_code == 0
    assert run(demo, "memo", "show", "--whole-study").output == "Line one\nline two\n"
    assert run(demo, "memo", "set", "--segment", T, "2", "Asks for coaching").output == \
        f"Memo on {T} ¶2 unchanged (tester)\n"
    assert run(demo, "memo", "set", "--segment", T, "2", "Asks for coaching, twice").output == \
        f"Edited memo on {T} ¶2 (tester)\n"

    mine = json.loads(run(demo, "memo", "list", "--format", "json").output)
    assert [(m["kind"], m["target"], m["text"]) for m in mine] == [
        ("study", "the study", "Line one\nline two"),
        ("segment", f"{T} ¶2", "Asks for coaching, twice")]
    assert set(mine[0]) == {"kind", "target", "transcript", "segment", "code", "coder", "text",
                            "created_at", "updated_at"}
    everyone = run(demo, "memo", "list", "--all-coders", "--kind", "code").output
    assert "Often requested" in everyone and "bo" in everyone
    shown = run(demo, "memo", "show", "--code", "need targeted PD", "--all-coders").output
    assert shown.startswith("## bo (") and "Often requested" in shown
    assert run(demo, "memo", "show", "--code", "need targeted PD").output == \
        "No memo on code 'need targeted PD' by tester.\n"

    assert run(demo, "undo").output.startswith(f"undid: edited a memo on {T} ¶2")
    assert run(demo, "memo", "show", "--segment", T, "2").output == "Asks for coaching\n"
    assert run(demo, "memo", "set", "--segment", T, "2", "").output == \
        f"Deleted memo on {T} ¶2 (tester)\n"
    assert run(demo, "memo", "set", "--segment", T, "2", "").output == \
        f"No memo on {T} ¶2 to delete (tester)\n"


@pytest.mark.parametrize("args, message", [
    ([], "name one memo target: --segment TRANSCRIPT N, --code NAME, --transcript NAME or "
         "--whole-study"),
    (["--code", "need targeted PD", "--whole-study"], "name one memo target"),
    (["--segment", T, "two"], "--segment takes a transcript and a segment number, not 'two'"),
    (["--segment", T, "9"], f"{T} has no segment 9 (it has 1–5)"),
    (["--segment", "ephrata", "2"], "no transcript named 'ephrata'"),
    (["--code", "need PD"], "no code named 'need PD' (did you mean 'need targeted PD'?)"),
    (["--transcript", "nowhere"], "no transcript named 'nowhere'"),
])
def test_bad_memo_targets_are_one_line_errors_and_change_nothing(demo, args, message):
    before = snapshot(demo)
    for command in (["memo", "set", *args, "text"], ["memo", "show", *args]):
        result = run(demo, *command)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("coder: error: ") and message in result.output
        assert result.output.count("\n") == 1
    assert snapshot(demo) == before
