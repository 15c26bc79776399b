"""The workbench driven with Pilot, checked against the database."""

from __future__ import annotations

import sqlite3

import pytest

from coder.tui import CoderApp
from coder.tui.screens.coding import CodingScreen
from coder.tui.widgets.transcript_view import TranscriptView
from conftest import open_store, run

SIZE = (120, 40)


def _codings(study, coder="tester"):
    with open_store(study) as store:
        return store.rows(
            """SELECT s.ordinal, c.name, g.origin FROM codings g
               JOIN segments s ON s.id = g.segment_id JOIN codes c ON c.id = g.code_id
               WHERE g.coder = ? ORDER BY s.ordinal, c.name""", (coder,))


def _reviewed(study, coder="tester"):
    with open_store(study) as store:
        return [r["ordinal"] for r in store.rows(
            """SELECT s.ordinal FROM reviewed r JOIN segments s ON s.id = r.segment_id
               WHERE r.coder = ? ORDER BY s.ordinal""", (coder,))]


async def _open(pilot) -> CodingScreen:
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CodingScreen)
    return screen


def _view(app) -> TranscriptView:
    return app.screen.query_one(TranscriptView)


async def test_code_keys_toggle_codes_and_moving_on_marks_reviewed(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("j", "p", "i")
        assert _codings(demo) == [
            {"ordinal": 2, "name": "islands of innovation", "origin": "manual"},
            {"ordinal": 2, "name": "need targeted PD", "origin": "manual"}]
        assert _reviewed(demo) == [1, 2]  # moved on from ¶1; coded ¶2 (coded means looked at)
        await pilot.press("i", "j")
        assert [c["name"] for c in _codings(demo)] == ["need targeted PD"]
        assert _reviewed(demo) == [1, 2]
        view = _view(app)
        assert view.segments[1].mine and view.segments[1].reviewed
        assert "reviewed 2/5" in str(app.screen.query_one("#status").render())


async def test_a_range_of_segments_takes_a_code_at_once_and_undoes_as_one(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("shift+down", "shift+down", "t")
        assert [c["ordinal"] for c in _codings(demo)] == [1, 2, 3]
        await pilot.press("u")
        assert _codings(demo) == []
        await pilot.press("ctrl+y")
        assert [c["ordinal"] for c in _codings(demo)] == [1, 2, 3]
        assert all(_view(app).segments[i].mine for i in range(3))


async def test_undo_works_across_a_restart(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("p")
    assert len(_codings(demo)) == 1
    again = CoderApp(demo.root, "tester")
    async with again.run_test(size=SIZE) as pilot:
        await _open(pilot)
        assert _view(again).segments[0].mine  # the chip is back after reopening
        await pilot.press("u")
        assert _codings(demo) == []
        assert not _view(again).segments[0].mine


async def test_memo_on_a_segment_is_saved_and_shown_again(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("j", "m")
        await pilot.pause()
        for ch in "Asks for coaching":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("ctrl+s")
        await pilot.pause()
        with open_store(demo) as store:
            memo = store.one("SELECT m.kind, m.text, s.ordinal FROM memos m "
                             "JOIN segments s ON s.id = m.target_id")
        assert memo == {"kind": "segment", "text": "Asks for coaching", "ordinal": 2}
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.query_one("TextArea").text == "Asks for coaching"


async def test_search_jumps_to_the_segment(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.pause()
        for ch in "schedule":
            await pilot.press(ch)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        view = _view(app)
        assert view.segments[view.current].ordinal == 5
        await pilot.press("t")
        assert _codings(demo) == [{"ordinal": 5, "name": "seat-time mandates",
                                   "origin": "manual"}]


async def test_the_code_picker_and_adding_a_code(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("c")
        await pilot.pause()
        for ch in "seat":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert _codings(demo)[0]["name"] == "seat-time mandates"
        await pilot.press("a")
        await pilot.pause()
        for ch in "peer":
            await pilot.press(ch)
        await pilot.press("ctrl+s")
        await pilot.pause()
        with open_store(demo) as store:
            assert store.scalar("SELECT count(*) FROM codes WHERE name = 'peer'") == 1
        await pilot.press("c")
        for ch in "peer":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert {c["name"] for c in _codings(demo)} == {"seat-time mandates", "peer"}


async def test_digits_toggle_the_first_codes_when_the_codebook_has_no_keys(study, tmp_path):
    (study.transcripts_dir / "a.md").write_text("Ann: One.\n\nBo: Two.\n", encoding="utf-8")
    (study.codebooks_dir / "cb.yaml").write_text(
        "codes:\n  - name: first\n  - name: second\n", encoding="utf-8")
    assert run(study, "sync").exit_code == 0
    app = CoderApp(study.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("2")
        assert _codings(study) == [{"ordinal": 1, "name": "second", "origin": "manual"}]


async def test_other_coders_codes_are_hidden_until_asked_for(demo):
    run(demo, "code", "apply", "ephrata-interview", "1", "islands of innovation", coder="bo")
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        view = _view(app)
        assert view.show_others is False
        assert view._chips[0] == []
        await pilot.press("ctrl+o")
        assert view._chips[0] and "bo" in view._chips[0][0][0][1]


async def test_next_unreviewed_and_clicks(demo):
    run(demo, "review", "ephrata-interview", "--segments", "2-3", coder="tester")
    app = CoderApp(demo.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("n")
        assert _view(app).current == 3
        await pilot.click("#transcript", offset=(10, 1))
        assert _view(app).current == 0
        assert _reviewed(demo) == [2, 3]  # the setting was off: moving marked nothing


async def test_a_locked_database_is_a_notification_not_a_crash(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        view = (await _open(pilot)).query_one(TranscriptView)
        app.store.conn.execute("PRAGMA busy_timeout = 50")
        other = sqlite3.connect(demo.db_path)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("p")
        await pilot.pause()
        assert app.waiting_for_database  # says so and waits, rather than failing
        assert not view.segments[0].mine and not _codings(demo)
        other.rollback()
        other.close()
        for _ in range(20):
            await pilot.pause(0.1)
        assert not app.waiting_for_database
        assert len(_codings(demo)) == 1 and view.segments[0].mine


@pytest.mark.parametrize(("press", "size"), [
    (["enter"], SIZE), (["enter", "j", "j", "question_mark"], SIZE),
    (["enter", "j", "j", "p"], (80, 24)), (["enter", "j", "j", "p"], (200, 50))])
def test_snapshots_of_the_demo_study(snap_compare, tmp_path, press, size):
    from coder.store.db import Store
    from coder.study import open_study
    from coder.sync import sync_study
    from conftest import copy_demo_study

    study = open_study(copy_demo_study(tmp_path / "demo"))
    with Store(study.db_path) as store:
        sync_study(store, study)
    async def settle(pilot) -> None:  # the suggester trains in a worker: wait for it
        for key in press:
            await pilot.press(key)
            for _ in range(3):  # training, then scoring the suggestions it starts
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
        await pilot.pause(0.6)  # a code toggled: the model updates after a 0.4 s pause...
        for _ in range(3):  # ...and then scores the segment again
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    assert snap_compare(CoderApp(study.root, "snapshot"), terminal_size=size, run_before=settle)


async def test_home_and_end_move_the_current_segment_and_reopening_resumes(demo):
    run(demo, "review", "ephrata-interview", "--segments", "1-2", coder="tester")
    app = CoderApp(demo.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        view = _view(app)
        assert view.current == 2  # the first segment not reviewed yet
        assert "reviewed 2/5" in str(app.screen.query_one("#status").render())
        await pilot.press("end")
        assert view.current == 4
        await pilot.press("t")
        await pilot.press("home")
        assert view.current == 0
        await pilot.press("down")
        assert view.current == 1
    assert _codings(demo) == [{"ordinal": 5, "name": "seat-time mandates", "origin": "manual"}]


async def test_escape_closes_help_and_clears_the_filter_before_leaving(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("question_mark")
        assert app.screen.query("HelpPanel")
        await pilot.press("escape")
        assert not app.screen.query("HelpPanel")
        assert isinstance(app.screen, CodingScreen)
        await pilot.press("ctrl+f")
        for ch in "seat":
            await pilot.press(ch)
        tree = app.screen.query_one("#code-tree")
        shown = [n.data for n in tree.root.children]
        assert len(shown) == 1  # only "school operations" (the parent of the match) is left
        await pilot.press("enter", "enter")
        assert _codings(demo)[0]["name"] == "seat-time mandates"
        await pilot.press("escape", "ctrl+f", "escape")
        assert app.screen.query_one("#code-filter").value == ""


async def test_a_segment_with_my_memo_is_marked(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot)
        await pilot.press("m", "x", "ctrl+s")
        await pilot.pause()
        assert _view(app).segments[0].memo
        assert "✎" in "".join(seg.text for seg in _view(app).render_line(0))


async def _settle(pilot) -> None:
    """Wait for the workers (training, scoring) and what they start, twice over."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_suggestions_show_evidence_and_learn_from_accept_and_reject(demo):
    app = CoderApp(demo.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _settle(pilot)
        await pilot.press("j")  # ¶2: "We needed more targeted PD ... drive-by workshops."
        await _settle(pilot)
        first = screen.current_suggestions[0]
        assert first.code == "need targeted PD" and "rule" in first.sources
        view = _view(app)
        text = view.segments[1].text
        assert [text[a:b] for a, b in view._highlights[1]][0].lower() in (
            "targeted pd", "drive-by")
        await pilot.press("y")
        assert _codings(demo) == [{"ordinal": 2, "name": "need targeted PD",
                                   "origin": "suggestion"}]
        assert _reviewed(demo) == [2]  # accepting a suggestion is looking at the segment
        await pilot.press("j", "j", "j")  # ¶5: seat time
        await _settle(pilot)
        assert screen.current_suggestions[0].code == "seat-time mandates"
        await pilot.press("x")
        await pilot.pause()
        with open_store(demo) as store:
            verdicts = store.rows("SELECT verdict, coder FROM suggestion_feedback ORDER BY id")
        assert verdicts == [{"verdict": "accept", "coder": "tester"},
                            {"verdict": "reject", "coder": "tester"}]
        assert all(s.code != "seat-time mandates" for s in screen.current_suggestions)
        await pilot.pause(0.6)  # the debounced update runs in a worker...
        await _settle(pilot)
        screen.rejected.clear()  # ...and afterwards the suggester itself knows the rejection
        screen.show_suggestions()
        await _settle(pilot)
        assert screen.suggestion_cache  # scored again by the updated model
        assert all(s.code != "seat-time mandates" for s in screen.current_suggestions)


async def test_switching_coder_retrains_the_suggestions_for_the_new_coder(demo):
    """Blind coding stays blind: after a switch, nothing of the previous coder's model
    suggests; the new coder's model learns from the new coder's work alone."""
    from textual.widgets import Input

    from coder.store.codings import apply_coding, mark_reviewed

    with open_store(demo) as store:
        seg = store.one("SELECT id FROM segments ORDER BY id LIMIT 1")["id"]
        code = store.one("SELECT id FROM codes WHERE name = 'need targeted PD'")["id"]
        with store.transaction():
            apply_coding(store, seg, code, coder="ann")
            mark_reviewed(store, [seg], coder="ann")
    app = CoderApp(demo.root, "ann", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _settle(pilot)
        assert screen.suggester.coder == "ann" and screen.suggester.positives() == 1
        app.switch_coder()
        await pilot.pause()
        app.screen.query_one(Input).value = "bob"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.suggester is None or screen.suggester.coder == "bob"
        await _settle(pilot)
        assert screen.suggester.coder == "bob"
        assert screen.suggester.positives() == 0  # none of ann's codings
        assert all(s.code_id != code or "model" not in s.sources
                   for s in screen.current_suggestions)
