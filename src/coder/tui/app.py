"""The coding workbench: a Textual app over one open study."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from coder.errors import CoderError
from coder.store.db import Store, is_busy
from coder.store.transcripts import transcript_id, transcript_names
from coder.study import Study, open_study
from coder.tui.screens.base import CoderScreen
from coder.tui.screens.coding import CodingScreen
from coder.tui.screens.home import HomeScreen
from coder.tui.screens.modals import Choice, MemoModal, PickerModal, PromptModal
from coder.tui.screens.waiting import WaitingModal

# How long a read waits for a lock (rare in WAL mode), and how long a change waits for another
# process's write before the workbench says it is waiting (and waits without freezing).
BUSY_MS = 2000
WRITE_WAIT_S = 0.3
# How often the workbench looks for other processes' writes (one cheap PRAGMA).
WATCH_S = 1.0
ACCEPT_AS_SPAN = "workbench.accept_as_span"  # the preference, per coder


class CoderApp(App):
    """Open a study, pick a transcript, code it. Everything is saved as it happens."""

    CSS_PATH = "app.tcss"
    TITLE = "coder"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "show_help_panel", "Keys", id="app.help"),
    ]

    def __init__(self, study: Study | Path | str, coder: str | None = None, *,
                 review_on_move: bool = True, consensus: str = "consensus") -> None:
        from coder.tui.guard import install

        install()  # no control character from the study reaches the terminal
        super().__init__()
        self.consensus = consensus
        self.study = study if isinstance(study, Study) else open_study(Path(study))
        self.coder = self.study.coder_name(coder)
        self.review_on_move = review_on_move
        # Where the last undo or redo changed something outside the open transcript.
        self.elsewhere: tuple[int, int, str] | None = None
        self.store = Store(self.study.db_path, coder=self.coder, command="tui")
        self.store.set_busy_timeout(BUSY_MS)
        self.store.patience = WRITE_WAIT_S  # a key must not freeze the screen
        self.title = f"coder · {self.study.settings.name}"
        from coder.tui.suggest_process import start_server

        start_server()  # the suggester's processes fork from it (see suggest_process)

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())
        self._data_version = self.store.data_version
        self.set_interval(WATCH_S, self.check_for_changes)

    def check_for_changes(self) -> bool:
        """Others wrote (``PRAGMA data_version`` moved): every open screen re-reads what it
        shows. True when there was something new."""
        try:
            version = self.store.data_version
        except sqlite3.Error:
            return False
        if version == self._data_version:
            return False
        self._data_version = version
        for screen in self.screen_stack:
            if isinstance(screen, CoderScreen):
                screen.database_changed()
        return True

    def on_unmount(self) -> None:
        self.store.close()

    # -- nothing crashes the workbench ------------------------------------------------------
    async def run_action(self, action: Any, default_namespace: Any = None,
                         namespaces: Any = None) -> bool:
        """Every key runs here: a ``CoderError`` it raises becomes a notification."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except CoderError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return True

    def safely(self, callback: Callable[[], Any]) -> Callable[[], None]:
        """``callback`` with its ``CoderError`` turned into a notification (palette commands)."""
        def run() -> None:
            try:
                callback()
            except CoderError as exc:
                self.notify(str(exc), severity="error", timeout=8)
        return run

    # -- writing through the core ----------------------------------------------------------
    def write(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a core change: ``(saved, result)``. Errors become notifications, not crashes."""
        try:
            return True, action(*args, **kwargs)
        except CoderError as exc:
            self.notify(str(exc), severity="error")
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                self.wait_for_database(lambda: action(*args, **kwargs))  # visibly
            else:  # read-only, disk full, damaged: say which
                from coder.store.db import database_error

                self.notify(f"Not saved: {database_error(exc, self.store.path)}",
                            severity="error", timeout=8)
        return False, None

    @property
    def waiting_for_database(self) -> bool:
        return isinstance(self.screen, WaitingModal)

    def wait_for_database(self, attempt: Callable[[], Any]) -> None:
        """Retry a change until the database is free, showing that the workbench waits; then
        every screen re-reads what it shows (the change included)."""

        def done(saved: bool | None) -> None:
            if saved:
                for screen in self.screen_stack:
                    if isinstance(screen, CoderScreen):
                        screen.database_changed()

        self.push_screen(WaitingModal(self.store, attempt), done)

    # -- navigation ------------------------------------------------------------------------
    def open_transcript(self, transcript_id: int, ordinal: int | None = None) -> None:
        top = self.screen
        if isinstance(top, CodingScreen) and top.transcript_id == transcript_id:
            if ordinal is not None:
                view = top.query_one("#transcript")
                index = next((i for i, s in enumerate(view.segments) if s.ordinal == ordinal),
                             None)
                if index is not None:
                    top.go(index)
            return
        if isinstance(top, CodingScreen):
            self.pop_screen()
        self.push_screen(CodingScreen(transcript_id, ordinal))

    def show_home(self) -> None:
        if isinstance(self.screen, CodingScreen):
            self.pop_screen()

    def coding_screen(self) -> CodingScreen | None:
        return self.screen if isinstance(self.screen, CodingScreen) else None

    # -- commands shared by screens --------------------------------------------------------
    def action_search(self) -> None:
        from coder.store.transcripts import search

        def find(query: str) -> list[Choice]:
            try:
                hits = search(self.store, query, limit=100)
            except CoderError:
                try:  # half-typed syntax: search the words as a phrase
                    hits = search(self.store, '"' + query.replace('"', " ") + '"', limit=100)
                except CoderError:
                    return []
            return [Choice(f"{h['transcript']} ¶{h['segment']} {h['speaker'] or ''}: "
                           f"{h['snippet']}", (h["transcript"], h["segment"])) for h in hits]

        def chosen(value: object | None) -> None:
            if not isinstance(value, tuple):
                return
            name, ordinal = value
            found = transcript_id(self.store, name)
            if found is not None:
                self.open_transcript(found, ordinal)

        self.push_screen(PickerModal("Search the study (words, \"phrases\", OR, NOT)", [],
                                     "Search…", search=find), chosen)

    def edit_memo(self, kind: str, target_id: int | None, title: str,
                  on_saved: Callable[[str], None] | None = None, place: str = "middle") -> None:
        from coder.store.memos import get_memo, set_memo

        existing = get_memo(self.store, kind, target_id, self.coder)
        text = existing["text"] if existing else ""

        def saved(value: str | None) -> None:
            if value is None:
                return
            ok, _ = self.write(set_memo, self.store, kind, target_id, self.coder, value)
            if ok and on_saved:
                on_saved("memo deleted" if not value.strip() else "memo saved")
            elif not ok and not self.waiting_for_database:
                # nothing typed is lost: reopen the editor with the text
                self.push_screen(MemoModal(title + " (not saved yet)", value, place), saved)

        self.push_screen(MemoModal(title, text, place), saved)

    def switch_coder(self) -> None:
        def chosen(name: str | None) -> None:
            if not name or name == self.coder:
                return
            self.coder = self.store.coder = name
            screen = self.coding_screen()
            if screen is not None:
                screen.reload_after_change()
                screen.sub_title = f"{screen.transcript['name']} · coder: {name}"
            else:
                self.screen.refresh_rows()  # type: ignore[attr-defined]
            self.notify(f"Now coding as {name}.")

        self.push_screen(PromptModal("Switch coder: your name", self.coder), chosen)

    def export_codings(self) -> None:
        from coder.codings_tables import codings_csv
        from coder.files import write_text
        from coder.store.codings import export_codings

        path = self.study.exports_dir / f"codings-{self.coder}-{date.today()}.csv"
        from coder.errors import CoderError

        try:
            write_text(path, codings_csv(export_codings(self.store, self.coder)))
        except CoderError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"Wrote {path.relative_to(self.study.root)}")

    def show_agreement(self) -> None:
        from coder.tui.screens.team import AgreementScreen

        self.push_screen(AgreementScreen())

    def show_quotes(self) -> None:
        from coder.tui.screens.quotes import QuotesScreen

        self.push_screen(QuotesScreen())

    def show_reconcile(self) -> None:
        from coder.tui.screens.team import ReconcileScreen

        self.push_screen(ReconcileScreen())

    @property
    def accept_as_span(self) -> bool:
        """Whether accepting a pattern suggestion codes the hit's sentence only: this
        coder's remembered setting (off: the whole segment)."""
        from coder.store.preferences import get_preference

        return get_preference(self.store, self.coder, ACCEPT_AS_SPAN, False) is True

    def toggle_accept_as_span(self) -> None:
        from coder.store.preferences import set_preference

        saved, _ = self.write(set_preference, self.store, self.coder, ACCEPT_AS_SPAN,
                              not self.accept_as_span)
        if not saved:
            return
        self.notify("Accepting a pattern suggestion codes the sentence it matched in."
                    if self.accept_as_span else
                    "Accepting a suggestion codes the whole segment.")

    def toggle_review_on_move(self) -> None:
        self.review_on_move = not self.review_on_move
        self.notify("Moving on marks a segment reviewed." if self.review_on_move else
                    "Moving on no longer marks segments reviewed (space marks one).")

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_study(self) -> None:
        """Import new or changed transcripts and reload codebooks, off the event loop."""
        from coder.sync import sync_study

        told: list[bool] = []

        def waiting(seconds: float | None) -> None:
            if seconds is not None and not told:  # once, at the first wait
                told.append(True)
                self.call_from_thread(self.notify, "Waiting for the database: another coder "
                                      "or command is writing…", timeout=5)

        with Store(self.study.db_path, coder=self.coder, command="sync",
                   on_wait=waiting) as store:
            result = sync_study(store, self.study)
        changed = [o for o in result.transcripts if o.status != "unchanged"]
        self.call_from_thread(self._synced, len(changed))

    @work(thread=True, exclusive=True, group="sync")
    def preview_sync(self) -> None:
        """Show what the new files in transcripts/ would import; sync if confirmed."""
        from coder.import_preview import pending_previews, preview_lines

        with Store(self.study.db_path, coder=self.coder, command="preview") as store:
            previews = pending_previews(store, self.study)
        if not previews:
            self.call_from_thread(self.sync_study)
            return
        from coder.tui.screens.import_preview import ImportPreviewModal

        title = f"{len(previews)} new or changed file(s) in transcripts/: import them?"
        lines = preview_lines(previews, root=self.study.root)
        self.call_from_thread(self.push_screen, ImportPreviewModal(title, lines),
                              self._import_confirmed)

    def _import_confirmed(self, ok: bool | None) -> None:
        if ok:
            self.notify("Importing…")
            self.sync_study()

    def _synced(self, changed: int) -> None:
        screen = self.coding_screen()
        if screen is not None:
            screen.reload_after_change()
        elif hasattr(self.screen, "refresh_rows"):
            self.screen.refresh_rows()
        self.notify(f"Study up to date ({changed} transcripts imported or updated).")

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:  # workers never exit the app (exit_on_error=False)
            error = event.worker.error
            self.notify(str(error) if isinstance(error, CoderError) else
                        f"{type(error).__name__}: {error}", severity="error", timeout=10)

    # -- command palette -------------------------------------------------------------------
    def _command(self, title: str, help: str, callback: Callable[[], Any]) -> SystemCommand:
        return SystemCommand(title, help, self.safely(callback))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield self._command("Search the study", "Full-text search; jump to a segment",
                            self.action_search)
        yield self._command("Switch coder", f"Now coding as {self.coder}", self.switch_coder)
        yield self._command("Agreement between coders",
                            "Cohen's and Fleiss' kappa, Krippendorff's alpha per code",
                            self.show_agreement)
        yield self._command("Reconcile disagreements", "Decide the consensus codes",
                            self.show_reconcile)
        yield self._command("Quote bank", "Preview quotes per code, pin or exclude, export",
                            self.show_quotes)
        yield self._command("Export my codings (CSV)", "Write them to exports/",
                            self.export_codings)
        yield self._command("Import new transcripts and reload codebooks",
                            "Preview the new files, then bring the study up to date",
                            self.preview_sync)
        yield self._command("Mark reviewed when moving on: "
                            + ("on" if self.review_on_move else "off"),
                            "Toggle the setting", self.toggle_review_on_move)
        yield self._command("Accept pattern suggestions as spans: "
                            + ("on" if self.accept_as_span else "off"),
                            "y codes the sentence a codebook pattern matched in, not the "
                            "whole segment", self.toggle_accept_as_span)
        # ``screen`` is the screen the palette was opened on (self.screen is the palette).
        coding = screen if isinstance(screen, CodingScreen) else None
        if coding is not None:
            yield self._command("Show or hide other coders' codes", "ctrl+o",
                                coding.action_toggle_others)
            yield self._command("Memo on this transcript", "M", coding.action_memo_transcript)
            yield self._command("Memo on the highlighted code", "From the codebook panel",
                                coding.action_memo_code)
            yield self._command("Back to the transcript list", "escape", self.show_home)
            if self.elsewhere is not None:
                tid, ordinal, label = self.elsewhere

                def go_there() -> None:
                    self.open_transcript(tid, ordinal)

                yield self._command(f"Go to {label}", "Where the last undo or redo changed",
                                    go_there)
            yield from coding.media_commands()
        for row in transcript_names(self.store):
            yield self._command(f"Open transcript: {row['name']}", "Start coding it",
                                partial(self.open_transcript, row["id"]))
