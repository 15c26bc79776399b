"""Agreement and reconciliation in the workbench, driven with Pilot."""

from __future__ import annotations

from coder.tui import CoderApp
from conftest import open_store, run

SIZE = (120, 40)


def _two_coders(demo) -> None:
    for coder in ("ann", "bo"):
        run(demo, "review", "ephrata-interview", coder=coder)
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "2", "islands of innovation", coder="bo")
    run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="bo")


def _consensus(demo):
    with open_store(demo) as store:
        codes = store.rows("""SELECT s.ordinal, c.name, g.origin FROM codings g
                              JOIN segments s ON s.id = g.segment_id
                              JOIN codes c ON c.id = g.code_id WHERE g.coder = 'consensus'
                              ORDER BY s.ordinal, c.name""")
        trail = store.rows("SELECT ordinal, adjudicator, note FROM consensus_decisions")
    return codes, trail


async def _show_agreement(app, pilot) -> None:
    """Open the agreement screen and wait for its statistics (computed in a worker)."""
    app.show_agreement()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_agreement_screen_lists_codes_with_their_statistics(demo):
    _two_coders(demo)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        await _show_agreement(app, pilot)
        table = app.screen.query_one("#agreement-table")
        rows = {table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["seat-time mandates"][3] == "100.0%"
        assert rows["need targeted PD"][0] == "▲"  # unreliable: flagged


async def test_reconciling_takes_a_coder_keeps_a_note_and_undoes(demo):
    _two_coders(demo)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        app.show_reconcile()
        await pilot.pause()
        screen = app.screen
        assert [(i.transcript, i.ordinal) for i in screen.items] == [("ephrata-interview", 2)]
        await pilot.press("n")
        for ch in "ann's reading fits":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await pilot.press("1")
        await pilot.pause()
        codes, trail = _consensus(demo)
        assert codes == [{"ordinal": 2, "name": "need targeted PD", "origin": "consensus"}]
        assert trail == [{"ordinal": 2, "adjudicator": "lead", "note": "ann's reading fits"}]
        assert screen.items[0].decided
        await pilot.press("u")
        await pilot.pause()
        codes, trail = _consensus(demo)
        assert codes == [] and trail == []
        await pilot.press("b")
        codes, _ = _consensus(demo)
        assert [c["name"] for c in codes] == ["islands of innovation", "need targeted PD"]


async def test_reconciling_can_be_narrowed_to_a_code_or_coders(demo):
    _two_coders(demo)
    run(demo, "review", "ephrata-interview", coder="cy")
    run(demo, "code", "apply", "ephrata-interview", "3", "seat-time mandates", coder="cy")
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        app.show_reconcile()
        await pilot.pause()
        screen = app.screen
        assert [i.ordinal for i in screen.items] == [2, 3, 5]
        await pilot.press("c")
        for ch in "seat-time mandates":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await pilot.pause()
        assert [i.ordinal for i in screen.items] == [3, 5]
        await pilot.press("c", "ctrl+u", "enter", "p")
        for ch in "ann,bo":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert [i.ordinal for i in screen.items] == [2]
        assert set(screen.items[0].coders) == {"ann", "bo"}


async def test_escape_closes_the_key_help_before_the_agreement_screen(demo):
    _two_coders(demo)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        await _show_agreement(app, pilot)
        screen = app.screen
        await pilot.press("question_mark", "escape")
        assert app.screen is screen and not screen.query("HelpPanel")
        table = screen.query_one("#agreement-table")
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("escape")
        assert app.screen is not screen
