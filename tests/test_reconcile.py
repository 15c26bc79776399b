"""Reconciliation: disagreements, decisions with their trail, auto-agree and progress."""

from __future__ import annotations

import json

import pytest

from coder import reconcile
from coder.errors import CoderError
from conftest import open_store, run, snapshot

EXCLUSIVE = """\
codes:
  - name: stance on PD
    exclusive: true
    children: [{name: PD effective}, {name: PD insufficient}]
"""


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def coded(demo):
    """ana and ben reviewed segments 1-4 of the interview; they agree on 1 and 3 (nothing and
    'seat-time mandates'), differ on 2 and 4; ben left a memo on 2."""
    (demo.codebooks_dir / "stance.yaml").write_text(EXCLUSIVE, encoding="utf-8")
    _ok(run(demo, "sync"))
    for coder in ("ana", "ben"):
        _ok(run(demo, "review", "ephrata-interview", "--segments", "1-4", coder=coder))
        _ok(run(demo, "code", "apply", "ephrata-interview", "3", "seat-time mandates",
                coder=coder))
        _ok(run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD",
                coder=coder))
    _ok(run(demo, "code", "apply", "ephrata-interview", "2", "PD insufficient", coder="ben"))
    _ok(run(demo, "memo", "set", "--segment", "ephrata-interview", "2", "clearly a complaint",
            coder="ben"))
    _ok(run(demo, "code", "apply", "ephrata-interview", "4", "islands of innovation",
            coder="ana"))
    return demo


def _ids(store, *names: str) -> list[int]:
    return [store.scalar("SELECT id FROM codes WHERE name = ?", (n,)) for n in names]


def _codes(store, coder: str, ordinal: int) -> list[str]:
    return [r["name"] for r in store.rows(
        """SELECT c.name FROM codings g JOIN codes c ON c.id = g.code_id
           JOIN segments s ON s.id = g.segment_id WHERE g.coder = ? AND s.ordinal = ?
           ORDER BY c.name""", (coder, ordinal))]


def test_disagreements_show_each_coders_codes_and_memos(coded) -> None:
    with open_store(coded) as store:
        items = reconcile.list_disagreements(store)
        need, insufficient, islands = _ids(store, "need targeted PD", "PD insufficient",
                                           "islands of innovation")
    assert [(d.transcript, d.ordinal) for d in items] == [("ephrata-interview", 2),
                                                          ("ephrata-interview", 4)]
    two = items[0]
    assert list(two.coders) == ["ana", "ben"]
    assert two.coders["ana"].codes == [need] and two.coders["ben"].codes == [need, insufficient]
    assert two.coders["ben"].memo == "clearly a complaint" and two.coders["ana"].memo is None
    assert two.agreed == [need] and two.disputed == [insufficient]
    assert not two.decided and two.consensus == [] and two.decision is None
    assert "targeted PD" in two.text and two.speaker == "Dr. Jane Roe"
    assert items[1].disputed == [islands]
    with open_store(coded) as store:
        only = reconcile.list_disagreements(store, code="stance on PD")
    assert [d.ordinal for d in only] == [2]


def test_proposals_take_a_coder_both_or_only_what_was_agreed(coded) -> None:
    with open_store(coded) as store:
        two = reconcile.list_disagreements(store)[0]
        need, insufficient = _ids(store, "need targeted PD", "PD insufficient")
    assert reconcile.proposal(two, "ana") == {need}
    assert reconcile.proposal(two, "ben") == {need, insufficient}
    assert reconcile.proposal(two, "both") == {need, insufficient}
    assert reconcile.proposal(two, "none") == {need}
    # Filtered to one code, only that code follows the choice.
    assert reconcile.proposal(two, "none", scope={insufficient}) == {need}
    assert reconcile.proposal(two, "ben", scope={insufficient}) == {need, insufficient}
    with pytest.raises(CoderError, match="take one of ana, ben, both or none"):
        reconcile.proposal(two, "cy")


def test_decide_sets_consensus_codings_marks_reviewed_and_keeps_a_trail(coded) -> None:
    with open_store(coded) as store:
        two = reconcile.list_disagreements(store)[0]
        need, insufficient = _ids(store, "need targeted PD", "PD insufficient")
        store.coder = "lead"
        decision = reconcile.decide(store, two.segment_id, {need, insufficient},
                                    adjudicator="lead", note="ben's memo convinced us")
        assert decision.added == [need, insufficient] and decision.newly_reviewed
        rows = store.rows("SELECT code_id, origin FROM codings WHERE coder = 'consensus'")
        assert sorted(r["code_id"] for r in rows) == sorted([need, insufficient])
        assert {r["origin"] for r in rows} == {"consensus"}
        assert store.scalar("SELECT 1 FROM reviewed WHERE coder = 'consensus' AND "
                            "segment_id = ?", (two.segment_id,))
        (row,) = reconcile.trail(store)
        assert row["adjudicator"] == "lead" and row["method"] == "manual"
        assert row["note"] == "ben's memo convinced us"
        assert row["transcript"] == "ephrata-interview" and row["ordinal"] == 2
        assert row["codes"] == ["need targeted PD", "PD insufficient"]
        assert row["previous"] == []
        assert row["coders"] == {
            "ana": {"reviewed": True, "codes": ["need targeted PD"], "memo": None},
            "ben": {"reviewed": True, "codes": ["need targeted PD", "PD insufficient"],
                    "memo": "clearly a complaint"}}
        events = store.rows("SELECT action, payload FROM events WHERE batch = "
                            "(SELECT max(batch) FROM events) ORDER BY id")
        assert [e["action"] for e in events] == ["coding.add", "coding.add", "review.add",
                                                 "consensus.decide"]
        payload = json.loads(events[-1]["payload"])
        assert payload["decision_id"] == row["id"] and payload["row"]["note"] == row["note"]
        assert payload["added"] == [need, insufficient] and payload["removed"] == []
        assert payload["reviewed_added"] is True
        # Deciding again replaces the consensus codes and adds a second trail row.
        again = reconcile.decide(store, two.segment_id, {need}, adjudicator="lead",
                                 note="on reflection, no verdict")
        assert again.removed == [insufficient] and not again.newly_reviewed
        second = reconcile.trail(store, two.segment_id)[-1]
        assert second["previous"] == ["need targeted PD", "PD insufficient"]
        assert _codes(store, "consensus", 2) == ["need targeted PD"]
        item = reconcile.list_disagreements(store)[0]
        assert item.decided and item.consensus == [need] and item.decision["id"] == second["id"]
        assert [d.ordinal for d in reconcile.list_disagreements(store, pending_only=True)] == [4]


def test_decide_refuses_two_exclusive_choices_and_unknown_codes(coded) -> None:
    state = snapshot(coded)
    with open_store(coded) as store:
        seg = reconcile.list_disagreements(store)[0].segment_id
        with pytest.raises(CoderError, match="are both children of the exclusive code"):
            reconcile.decide(store, seg, set(_ids(store, "PD effective", "PD insufficient")),
                             adjudicator="lead")
        with pytest.raises(CoderError, match="no code with id 999"):
            reconcile.decide(store, seg, {999}, adjudicator="lead")
    assert snapshot(coded) == state


def test_auto_agree_copies_unanimous_codings_once(coded) -> None:
    with open_store(coded) as store:
        result = reconcile.auto_agree(store, adjudicator="lead")
        # 1 (both: nothing) and 3 (both: seat time) are unanimous; 2 shares 'need targeted PD'.
        assert (result.decided, result.partial, result.codings_added) == (2, 1, 2)
        assert _codes(store, "consensus", 3) == ["seat-time mandates"]
        assert _codes(store, "consensus", 2) == ["need targeted PD"]
        decided = {r["segment_id"] for r in store.rows(
            "SELECT segment_id FROM reviewed WHERE coder = 'consensus'")}
        assert len(decided) == 2
        rows = reconcile.trail(store)
        assert [(r["ordinal"], r["method"], r["codes"]) for r in rows] == [
            (1, "auto", []), (3, "auto", ["seat-time mandates"])]
        event = store.one("SELECT payload FROM events WHERE action = 'consensus.auto'")
        assert json.loads(event["payload"])["decision_ids"] == [r["id"] for r in rows]
        state = reconcile.progress(store)
        assert (state.units, state.agreed, state.disagreements, state.decided,
                state.remaining, state.unanimous_pending) == (4, 2, 2, 0, 2, 0)
    before = snapshot(coded)
    with open_store(coded) as store:
        again = reconcile.auto_agree(store, adjudicator="lead")
    assert (again.decided, again.codings_added, again.already_decided) == (0, 0, 2)
    assert snapshot(coded) == before


def test_reconcile_command_decides_from_scripts_and_reports_progress(coded) -> None:
    out = _ok(run(coded, "reconcile", "--auto-agree", coder="lead"))
    assert "2 unanimous segments decided" in out
    assert "Progress (ana, ben → consensus): 0 of 2 disagreements decided, 2 remaining" in out
    out = _ok(run(coded, "reconcile", "--segment", "ephrata-interview", "2", "--take", "ben",
                  "--note", "memo", coder="lead"))
    assert "Decided ephrata-interview ¶2: consensus has 'need targeted PD', " \
           "'PD insufficient' (added PD insufficient)" in out
    assert "1 of 2 disagreements decided, 1 remaining" in out
    out = _ok(run(coded, "reconcile", "--segment", "ephrata-interview", "4", "--set", "",
                  coder="lead"))
    assert "consensus has no codes (unchanged)" in out
    data = json.loads(_ok(run(coded, "reconcile", "--trail", "--list", "--format", "json")))
    assert data["progress"]["remaining"] == 0 and data["pending"] == []
    assert [(r["ordinal"], r["method"], r["adjudicator"]) for r in data["trail"]] == [
        (1, "auto", "lead"), (3, "auto", "lead"), (2, "manual", "lead"), (4, "manual", "lead")]
    with open_store(coded) as store:
        assert _codes(store, "consensus", 4) == []
    result = run(coded, "reconcile", "--take", "ana")
    assert result.exit_code == 1 and "--take and --set need --segment" in result.output
    result = run(coded, "reconcile", "--segment", "ephrata-interview", "2", "--take", "zed")
    assert result.exit_code == 1 and "take one of ana, ben, both or none" in result.output
    # The consensus coder is not compared unless named.
    report = json.loads(_ok(run(coded, "agreement", "--format", "json")))
    assert report["coders"] == ["ana", "ben"]
