"""The workbench's first hour: no screen crashes it, coding counts as reviewing, the codebook
filter finds names first, team screens choose their coders, heavy work leaves keys free."""

from __future__ import annotations

import re
import threading

import pytest
from click.testing import CliRunner
from textual.app import App

from coder.cli import cli
from coder.study import open_study
from coder.tui import CoderApp
from coder.tui.screens.coding import CodingScreen
from coder.tui.screens.home import HomeScreen
from conftest import REPO, copy_demo_study, open_store, run

SIZE = (120, 40)


async def _settle(pilot) -> None:
    """Wait for the workers and for what they start (a worker cancelled because its
    screen closed counts as done; the app reports real errors itself)."""
    from contextlib import suppress

    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(3):
        with suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def _ours(app, screen) -> list:
    """The palette's commands that coder adds (not Textual's own, such as Quit)."""
    builtin = {c.title for c in App.get_system_commands(app, screen)}
    return [c for c in app.get_system_commands(screen) if c.title not in builtin]


async def _every_command(app, pilot, base) -> list[str]:
    """Run each palette command from ``base``, then come back; returns the titles run."""
    titles = []
    for command in _ours(app, base):
        titles.append(command.title)
        command.callback()
        await _settle(pilot)
        assert app.is_running and app._exception is None, command.title
        for _ in range(3):  # a screen pushed over another (agreement → a prompt) unwinds
            if app.screen is base or base not in app.screen_stack:
                break
            app.pop_screen()
            await pilot.pause()
        if base not in app.screen_stack:  # "Back to the transcript list" left it
            break
    return titles


def _demo(tmp_path):
    study = open_study(copy_demo_study(tmp_path / "demo"))
    assert run(study, "sync").exit_code == 0
    return study


@pytest.mark.parametrize("which", ["empty", "demo"])
async def test_every_screen_and_palette_command_opens_without_crashing(which, study,
                                                                       tmp_path):
    target = study if which == "empty" else _demo(tmp_path)
    app = CoderApp(target.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        home = app.screen
        assert isinstance(home, HomeScreen)
        titles = await _every_command(app, pilot, home)
        assert "Agreement between coders" in titles and "Quote bank" in titles
        # Agreement with fewer than two coders says so instead of crashing (the palette path)
        await pilot.press("ctrl+p")
        for ch in "Agreement between":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await _settle(pilot)
        assert app.is_running and app._exception is None
        assert any("at least two coders" in m for m in _messages(app))
        summary = str(app.screen.query_one("#agreement-summary").render())
        assert "No agreement to show" in summary and "c chooses the coders" in summary
        await pilot.press("escape")
        if which == "demo":
            await pilot.press("enter")
            await _settle(pilot)
            coding = app.screen
            assert isinstance(coding, CodingScreen)
            titles = await _every_command(app, pilot, coding)
            assert {"Memo on this transcript", "Memo on the highlighted code",
                    "Show or hide other coders' codes"} <= set(titles)
        for key in ("question_mark", "escape", "slash", "escape"):
            await pilot.press(key)
        assert app.is_running and app._exception is None


async def test_a_coder_error_from_a_key_is_a_notification_not_a_crash(demo, monkeypatch):
    from coder.errors import CoderError

    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()

        def broken(*args, **kwargs):
            raise CoderError("transcripts/x.md: the disk is full")

        monkeypatch.setattr(app.screen, "action_next_unreviewed", broken)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and "transcripts/x.md: the disk is full" in _messages(app)


# -- coded means looked at -------------------------------------------------------------------
def _reviewed(study, coder="tester") -> list[int]:
    with open_store(study) as store:
        return [r["ordinal"] for r in store.rows(
            """SELECT s.ordinal FROM reviewed r JOIN segments s ON s.id = r.segment_id
               WHERE r.coder = ? ORDER BY s.ordinal""", (coder,))]


async def test_coding_by_key_picker_or_range_marks_the_segments_reviewed(demo):
    app = CoderApp(demo.root, "tester", review_on_move=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("p")  # a key, on ¶1, without moving on
        assert _reviewed(demo) == [1]
        await pilot.press("end", "shift+up", "t")  # a range ¶4-5
        assert _reviewed(demo) == [1, 4, 5]
        await pilot.press("home", "down", "c")  # the picker on ¶2
        await pilot.pause()
        for ch in "islands":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert _reviewed(demo) == [1, 2, 4, 5]
        assert "reviewed 4/5" in str(app.screen.query_one("#status").render())
        await pilot.press("u")  # undoing the coding takes its reviewed mark back too
        assert _reviewed(demo) == [1, 4, 5]
    # the CLI's `code apply` is the same core function
    run(demo, "code", "apply", "ephrata-interview", "3", "need targeted PD", coder="ann")
    assert _reviewed(demo, "ann") == [3]
    with open_store(demo) as store:  # and agreement counts it: nothing "not counted"
        from coder.agreement import compute_agreement

        run(demo, "code", "apply", "ephrata-interview", "3", "need targeted PD", coder="bo")
        report = compute_agreement(store, ["ann", "bo"])
    assert report["ignored_codings"] == {}


# -- codebook filter -------------------------------------------------------------------------
STAFF_CODEBOOK = """\
codes:
  - name: leadership
    children:
      - name: leadership vision and communication
        definition: How leaders explain the change to staff and families.
      - name: leadership support
        definition: Staff say leaders back them.
  - name: operations
    children:
      - name: staffing models
        definition: Team teaching, new roles, schedules for adults.
"""


async def test_the_filter_ranks_names_above_definitions_and_says_what_enter_toggles(demo):
    (demo.codebooks_dir / "pl.yaml").write_text(STAFF_CODEBOOK, encoding="utf-8")
    assert run(demo, "codebook", "load", str(demo.codebooks_dir / "pl.yaml")).exit_code == 0
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+f")
        for ch in "staff":
            await pilot.press(ch)
        await pilot.pause()
        details = str(app.screen.query_one("#code-details").render())
        assert "Enter, Enter toggles staffing models" in details
        await pilot.press("enter", "enter")
        with open_store(demo) as store:
            assert [r["name"] for r in store.rows(
                "SELECT c.name FROM codings g JOIN codes c ON c.id = g.code_id")] == [
                "staffing models"]
        # Esc: straight back to the transcript, and the codebook shows every code again
        await pilot.press("ctrl+f", "x", "escape")
        await pilot.pause()
        screen = app.screen
        assert screen.focused is screen.query_one("#transcript")
        assert screen.query_one("#code-filter").value == ""
        assert len(screen.filter_matches) == len(screen.codes)
        # leaving the code tree with tab clears a filter too
        await pilot.press("ctrl+f", "l", "e", "a", "d", "enter", "tab")
        await pilot.pause()
        assert screen.query_one("#code-filter").value == ""


def test_filter_ranking_prefix_then_words_then_fuzzy_then_definition():
    from coder.tui.code_filter import rank_codes

    codes = [{"id": 1, "name": "leadership vision", "definition": "staff hear it"},
             {"id": 2, "name": "new staffing models", "definition": ""},
             {"id": 3, "name": "staff morale", "definition": ""},
             {"id": 4, "name": "seat-time mandates", "definition": ""}]
    assert [cid for cid, _ in rank_codes(codes, "staff")] == [3, 2, 1]
    # initials first (seat-time mandates), then the letters in order anywhere
    assert [cid for cid, _ in rank_codes(codes, "stm")] == [4, 2, 3]
    assert [cid for cid, _ in rank_codes(codes, "lead vis")] == [1]
    assert rank_codes(codes, "zzz") == []


# -- team screens choose their coders --------------------------------------------------------
def _three_coders(demo) -> None:
    for coder in ("ann", "bo", "cy"):
        run(demo, "review", "ephrata-interview", coder=coder)
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="bo")
    run(demo, "code", "apply", "ephrata-interview", "4", "islands of innovation", coder="cy")


async def test_agreement_and_reconcile_compare_the_chosen_coders_remembered(demo):
    _three_coders(demo)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        app.show_agreement()
        await _settle(pilot)
        assert "ann, bo, cy" in str(app.screen.query_one("#agreement-summary").render())
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"ann,bo", "enter")
        await _settle(pilot)
        summary = str(app.screen.query_one("#agreement-summary").render())
        assert "Coders: ann, bo ·" in summary
        table = app.screen.query_one("#agreement-table")
        rows = {table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["need targeted PD"][4] == "1.000"  # Cohen's κ of the one pair
        await pilot.press("D")
        await pilot.pause()
        assert app.screen.coders == ["ann", "bo"]
    again = CoderApp(demo.root, "lead")  # remembered for this coder, across restarts
    async with again.run_test(size=SIZE) as pilot:
        again.show_reconcile()
        await pilot.pause()
        assert again.screen.coders == ["ann", "bo"]
        assert "coders: ann, bo" in str(again.screen.query_one("#reconcile-progress").render())


# -- nothing heavy on the UI thread ----------------------------------------------------------
async def test_keys_are_handled_while_agreement_is_computed(demo, monkeypatch):
    import coder.agreement as agreement

    _three_coders(demo)
    release = threading.Event()
    real = agreement.compute_agreement

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(agreement, "compute_agreement", slow)
    app = CoderApp(demo.root, "lead")
    async with app.run_test(size=SIZE) as pilot:
        app.show_agreement()
        await pilot.pause()
        assert "working" in str(app.screen.query_one("#agreement-summary").render())
        await pilot.press("question_mark")  # the UI answers while the worker computes
        assert app.screen.query("HelpPanel")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        release.set()
        await _settle(pilot)
        assert app.is_running and app._exception is None


async def test_keys_code_the_transcript_while_the_suggester_trains(demo, monkeypatch):
    from coder.tui import suggest_process

    release = threading.Event()
    real = suggest_process.SuggestProcess.wait_ready

    def slow(self):
        release.wait(20)
        real(self)

    monkeypatch.setattr(suggest_process.SuggestProcess, "wait_ready", slow)
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        await pilot.press("p", "j", "t")
        assert screen.suggester is None  # still training
        assert "learning" in str(screen.query_one("#suggestions").render())
        with open_store(demo) as store:
            assert store.scalar("SELECT count(*) FROM codings") == 2
        release.set()
        await _settle(pilot)
        assert screen.suggester is not None
        assert "Suggestions" in str(screen.query_one("#suggestions").render())


# -- the README's key table is the bindings --------------------------------------------------
def _readme_keys() -> set[str]:
    """Every key named in the README's key tables (the tables whose header starts "key")."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    keys: set[str] = set()
    for table in re.findall(r"^\| key[^\n]*\|\n\|[-|]+\|\n((?:\|[^\n]*\n)+)", text, re.M):
        for line in table.splitlines():
            cell = line.split("|")[1]
            keys |= set(re.findall(r"`([^`]+)`", cell))
            keys |= set(re.findall(r"(?<![\w`])(ctrl\+\S+?|shift\+[↓↑←→]|PgDn|PgUp|Home|End|"
                                   r"Esc|Delete|Backspace|tab|space|[↓↑←→])(?=[\s,/)]|$)",
                                   cell))
    return keys


_NAMES = {"down": "↓", "up": "↑", "left": "←", "right": "→", "pagedown": "PgDn",
          "pageup": "PgUp", "home": "Home", "end": "End", "escape": "Esc", "delete": "Delete",
          "backspace": "Backspace", "shift+down": "shift+↓", "shift+up": "shift+↑",
          "shift+left": "shift+←", "shift+right": "shift+→", "ctrl+left": "ctrl+←",
          "ctrl+right": "ctrl+→", "space": "space", "tab": "tab", "minus": "-", "plus": "+",
          "slash": "/", "question_mark": "?"}
_ALIASES = {"ctrl+@"}  # the terminal's other name for ctrl+space


def _shown(key: str) -> str:
    from textual.keys import key_to_character

    if key in _NAMES:
        return _NAMES[key]
    char = key_to_character(key)
    return char if char and len(char) == 1 else key


def test_the_readme_key_table_lists_every_binding_of_the_coding_screen():
    from coder.tui.app import CoderApp as AppClass

    bound = {AppClass.COMMAND_PALETTE_BINDING}  # Textual's own: ctrl+p
    for binding in [*CodingScreen.BINDINGS, *AppClass.BINDINGS]:
        for key in binding.key.split(","):
            if key not in _ALIASES:
                bound.add(_shown(key))
    documented = _readme_keys()
    missing = bound - documented
    assert not missing, f"bindings not in the README's key table: {sorted(missing)}"
    extra = {k for k in documented - bound
             if not re.fullmatch(r"[0-9pi]|1.*9|a code's key.*", k)}
    assert not extra, f"keys in the README's table with no binding: {sorted(extra)}"


async def test_typing_filters_the_transcripts_and_q_still_quits(tmp_path):
    study = _demo(tmp_path)
    app = CoderApp(study.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"podcast")
        home = app.screen
        assert home.query_one("#home-filter").value == "podcast"
        assert home.query_one("#transcripts").row_count == 1
        await pilot.press("backspace")
        assert home.query_one("#home-filter").value == "podcas"
        await pilot.press("q")
        await pilot.pause()
        assert app._exit  # quit, rather than typing "q" into the filter


# -- small and large terminals ---------------------------------------------------------------
async def test_at_80x24_siblings_stay_apart_the_panel_resizes_and_alpha_shows(demo):
    (demo.codebooks_dir / "pl.yaml").write_text(STAFF_CODEBOOK, encoding="utf-8")
    assert run(demo, "codebook", "load", str(demo.codebooks_dir / "pl.yaml")).exit_code == 0
    _three_coders(demo)
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        labels = [str(n.label) for n in screen.query_one("#code-tree").root.children[0].children]
        ends = [label.rstrip()[-6:] for label in labels]
        assert len(set(ends)) == len(ends)  # "leadership v…nication" vs "leadership support"
        before = screen.query_one("#codebook").size.width
        await pilot.press("ctrl+right", "ctrl+right")
        await pilot.pause()
        assert screen.query_one("#codebook").size.width == before + 8
        await pilot.press("escape")
        app.show_agreement()
        await _settle(pilot)
        header = app.screen.query_one("#agreement-table").ordered_columns
        assert [c.label.plain for c in header][-1] == "α"
        assert sum(c.get_render_width(app.screen.query_one("#agreement-table"))
                   for c in header) <= 80
    again = CoderApp(demo.root, "tester")
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert again.screen.query_one("#codebook").size.width == before + 8  # remembered


def test_an_empty_quote_bank_warns_and_names_the_coders_with_codings(demo):
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="gold")
    result = CliRunner().invoke(cli, ["quotes", "--study", str(demo.root),
                                       "--coder", "tester"])
    assert result.exit_code == 0
    assert "warning: tester has no codings; the bank is empty; coders with codings: " \
           "gold (1) (name one with --coder, e.g. --coder gold)" in result.stderr


async def test_undoing_a_change_in_another_transcript_says_where_and_goes_there(tmp_path):
    study = _demo(tmp_path)
    run(study, "code", "apply", "podcast-pd-networks", "12", "need targeted PD")
    app = CoderApp(study.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        app.open_transcript(next(r["id"] for r in app.store.rows(
            "SELECT id FROM transcripts WHERE name = 'experts-panel'")))
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        assert any("that was in podcast-pd-networks ¶12" in m for m in _messages(app))
        go = next(c for c in _ours(app, app.screen)
                  if c.title == "Go to podcast-pd-networks ¶12")
        go.callback()
        await pilot.pause()
        screen = app.screen
        assert screen.transcript["name"] == "podcast-pd-networks"
        view = screen.query_one("#transcript")
        assert view.segments[view.current].ordinal == 12


async def test_the_memo_dialog_leaves_the_segment_it_is_about_in_view(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen.query_one("#transcript")
        top = view.region.y + view.segment_top(view.current)
        rows = range(top, top + view._heights[view.current])
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen.query_one("#dialog").region
        assert not any(dialog.y <= row < dialog.bottom for row in rows)
        await pilot.press(*"noted", "ctrl+s")
        await pilot.pause()
    with open_store(demo) as store:
        assert store.scalar("SELECT text FROM memos") == "noted"
