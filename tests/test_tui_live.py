"""An open workbench shows what other processes write, without reopening (Pilot)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from textual.widgets import DataTable

from coder.tui import CoderApp
from coder.tui.screens.coding import CodingScreen
from coder.tui.widgets.transcript_view import TranscriptView
from conftest import open_store, run

SIZE = (120, 40)
CODER = str(Path(sys.executable).with_name("coder"))


def _other_process(study, coder: str, *args: str) -> None:
    """A second coder's command, in its own process (as on a shared server)."""
    env = {**os.environ, "CODER_NAME": coder}
    done = subprocess.run([CODER, *args, "--study", str(study.root)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def _until(pilot, condition, seconds: float = 10.0) -> bool:
    """Let the workbench run (its timer looks for changes once a second) until ``condition``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.2)
    return condition()


async def test_others_codes_appear_in_an_open_workbench_without_reopening(demo):
    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        await pilot.press("ctrl+o")  # show other coders' codes
        view = screen.query_one(TranscriptView)
        second = view.segments[1]
        assert second.others == {}
        pd = next(c for c in screen.codes if c["name"] == "need targeted PD")
        await asyncio.to_thread(_other_process, demo, "bo", "code", "apply",
                                "ephrata-interview", "2", "need targeted PD")
        assert await _until(pilot, lambda: second.others == {pd["id"]: ["bo"]})
        assert "need targeted PD · bo" in " ".join(
            "".join(seg.text for seg in view.render_line(y)) for y in range(SIZE[1]))
        # Blind coding holds: the codebook counts stay mine.
        assert next(c for c in screen.codes if c["id"] == pd["id"])["codings"] == 0
        # My own work from another terminal shows too, with its count.
        await asyncio.to_thread(_other_process, demo, "ann", "code", "apply",
                                "ephrata-interview", "2", "islands of innovation")
        islands = next(c for c in screen.codes if c["name"] == "islands of innovation")
        assert await _until(pilot, lambda: islands["id"] in second.mine)
        assert next(c for c in screen.codes if c["id"] == islands["id"])["codings"] == 1
        # And the workbench still writes: my key lands in the database next to bo's coding.
        await pilot.press("j", "j", "p")  # from ¶1 to ¶3
    with open_store(demo) as store:
        rows = store.rows("""SELECT s.ordinal, c.name, g.coder FROM codings g
                             JOIN segments s ON s.id = g.segment_id
                             JOIN codes c ON c.id = g.code_id ORDER BY g.id""")
    assert rows == [{"ordinal": 2, "name": "need targeted PD", "coder": "bo"},
                    {"ordinal": 2, "name": "islands of innovation", "coder": "ann"},
                    {"ordinal": 3, "name": "need targeted PD", "coder": "ann"}]


async def test_the_transcript_list_and_reconcile_screen_follow_the_database(demo):
    for coder in ("ann", "bo"):
        run(demo, "review", "ephrata-interview", coder=coder)
    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.get_row_at(0)[4] == "0"  # my codings
        run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
        assert await _until(pilot, lambda: table.get_row_at(0)[4] == "1")
        app.show_reconcile()
        await pilot.pause()
        screen = app.screen
        assert [(i.transcript, i.ordinal) for i in screen.items] == [("ephrata-interview", 2)]
        run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="bo")
        assert await _until(pilot, lambda: [i.ordinal for i in screen.items] == [2, 5])
        assert screen.index == 0  # still on the segment I was looking at


async def test_an_idle_workbench_does_not_refresh_and_costs_little_cpu(demo):
    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert app.check_for_changes() is False  # nothing new: nothing re-read
        started = time.process_time()
        await asyncio.sleep(3)
        used = time.process_time() - started
    assert used < 0.3, f"{used:.2f} s of CPU in 3 s of idling"


async def test_a_key_while_another_process_writes_waits_visibly_then_saves(demo):
    import sqlite3

    from coder.tui.screens.waiting import WaitingModal

    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        coding = app.screen
        await app.workers.wait_for_complete()  # the suggester has learnt
        other = sqlite3.connect(str(demo.db_path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's long write (an import, say)
        started = time.monotonic()
        await pilot.press("p")
        assert time.monotonic() - started < 5  # the screen did not freeze (0.7 s here)
        assert isinstance(app.screen, WaitingModal)
        assert "Another coder or command is writing" in str(
            app.screen.query_one("#waiting-text").render())
        await pilot.press("p", "j")  # keys wait too: nothing acts on a stale screen
        await pilot.pause(0.6)
        assert isinstance(app.screen, WaitingModal)
        other.execute("COMMIT")
        other.close()
        assert await _until(pilot, lambda: app.screen is coding)
        view = coding.query_one(TranscriptView)
        pd = next(c for c in coding.codes if c["name"] == "need targeted PD")
        assert pd["id"] in view.segments[0].mine
        assert pd["codings"] == 1
    with open_store(demo) as store:
        assert store.rows("SELECT coder, code_id FROM codings") == [
            {"coder": "ann", "code_id": pd["id"]}]


async def test_giving_up_on_a_waiting_change_saves_nothing(demo):
    import sqlite3

    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        coding = app.screen
        other = sqlite3.connect(str(demo.db_path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("p")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is coding
        other.execute("COMMIT")
        other.close()
        await pilot.pause(0.5)
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM codings") == 0


async def test_a_transcript_replaced_by_another_process_reloads_in_the_open_workbench(demo):
    from conftest import INTERVIEW

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    app = CoderApp(demo.root, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen.query_one(TranscriptView)
        assert len(view.segments) == 5
        (demo.transcripts_dir / "ephrata-interview.md").write_text(
            INTERVIEW + "\nInterviewer: Anything else?\n", encoding="utf-8")
        await asyncio.to_thread(_other_process, demo, "bo", "sync")
        assert await _until(pilot, lambda: len(view.segments) == 6)
        pd = next(c for c in app.screen.codes if c["name"] == "need targeted PD")
        assert pd["id"] in view.segments[1].mine  # the coding on the unchanged segment held
        assert view.segments[5].text.startswith("Anything else?")


async def test_the_agreement_screen_recomputes_when_others_code(demo):
    for coder in ("ann", "bo"):
        run(demo, "review", "ephrata-interview", coder=coder)
    run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="ann")
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        app.show_agreement()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#agreement-table")

        def agree(code: str) -> str:
            rows = {table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)}
            return rows[code][3]

        assert agree("seat-time mandates") == "80.0%"  # bo left ¶5 uncoded
        run(demo, "code", "apply", "ephrata-interview", "5", "seat-time mandates", coder="bo")
        assert await _until(pilot, lambda: agree("seat-time mandates") == "100.0%")
