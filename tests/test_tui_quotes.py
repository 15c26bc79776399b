"""The quote bank screen: pins and exclusions change what the quote bank chooses."""

from __future__ import annotations

from coder.quotes import build_bank
from coder.study import open_study
from coder.tui import CoderApp
from conftest import REPO, copy_demo_study, open_store, run

SIZE = (120, 40)
REPO_CODINGS = REPO / "benchmarks" / "demo_codings.csv"


def _bank(study, code: str) -> list[tuple[str, int]]:
    with open_store(study) as store:
        bank = build_bank(store, study="demo", coder="gold", codes=[code])
    return [(q.transcript, q.segment) for q in bank.codes[0].quotes]


async def _settle(pilot) -> None:
    """The quotes are chosen in a worker: wait for it and what it shows."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_pinning_and_excluding_quotes_is_kept_and_respected(tmp_path):
    study = open_study(copy_demo_study(tmp_path / "demo"))
    assert run(study, "sync").exit_code == 0
    assert run(study, "codings", "import", str(REPO_CODINGS)).exit_code == 0
    code = "voice and choice"
    before = _bank(study, code)
    app = CoderApp(study.root, "gold")
    async with app.run_test(size=SIZE) as pilot:
        app.show_quotes()
        await _settle(pilot)
        screen = app.screen
        names = [c["name"] for c in screen.codes]
        codes_list = screen.query_one("#quotes-codes")
        codes_list.highlighted = names.index(code)
        await _settle(pilot)
        keys = [(q.transcript, q.segment) for q in screen.rows]
        outside = next(k for k in keys if k not in before)
        await pilot.press("tab")
        screen.query_one("#quotes-list").highlighted = keys.index(outside)
        await pilot.press("p")  # pin a segment the bank had not chosen
        assert _bank(study, code)[0] == outside
        await _settle(pilot)
        first = before[0]
        screen.query_one("#quotes-list").highlighted = [
            (q.transcript, q.segment) for q in screen.rows].index(first)
        await pilot.press("x")  # exclude the bank's first choice
        after = _bank(study, code)
        assert outside in after and first not in after
        await _settle(pilot)
        await pilot.press("u")
        assert first in _bank(study, code)
        await _settle(pilot)
        await pilot.press("e")
        await _settle(pilot)
    assert (study.exports_dir / "quotes-gold.md").is_file()
