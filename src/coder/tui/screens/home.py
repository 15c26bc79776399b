"""The home screen: the study's transcripts, filterable; enter opens one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.fuzzy import Matcher
from textual.widgets import DataTable, Footer, Header, Input, Static

from coder.store.transcripts import list_transcripts
from coder.tui.screens.base import CoderScreen, move_cursor_to, row_key_at_cursor

if TYPE_CHECKING:
    pass


class HomeScreen(CoderScreen):
    """Pick a transcript to code."""

    BINDINGS = [
        Binding("slash", "search", "Search", id="home.search"),
        Binding("f", "focus_filter", "Filter", id="home.filter"),
        Binding("escape", "focus_table", "Table", show=False, id="home.table"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter transcripts by name (f)…", id="home-filter")
        yield DataTable(id="transcripts", cursor_type="row", zebra_stripes=True)
        yield Static(id="home-help")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Transcript", "Kind", "Segments", "Reviewed by me", "My codings")
        self.refresh_rows()
        table.focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def database_changed(self) -> None:
        if not self.is_current:  # under the coding screen: re-read when shown again
            return
        table = self.query_one(DataTable)
        key = row_key_at_cursor(table)
        self.refresh_rows()
        move_cursor_to(table, key)

    def refresh_rows(self) -> None:
        self.sub_title = f"coder: {self.capp.coder}"
        self.rows = list_transcripts(self.capp.store, self.capp.coder)
        self.show(self.query_one("#home-filter", Input).value)
        self.update_help()

    def update_help(self) -> None:
        study = self.capp.study.settings.name
        shown = self.query_one(DataTable).row_count
        count = (f"{len(self.rows)} transcripts" if shown == len(self.rows)
                 else f"showing {shown} of {len(self.rows)} transcripts")
        self.query_one("#home-help", Static).update(
            f" {study} · {count} · type to filter · enter opens · / searches everything · "
            "ctrl+p commands · ? keys · q quits")

    def show(self, query: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        matcher = Matcher(query) if query.strip() else None
        for row in self.rows:
            if matcher is not None and not matcher.match(row["name"]):
                continue
            share = f"{row['reviewed'] / row['segments']:.0%}" if row["segments"] else "–"
            table.add_row(row["name"], row["kind"] or "", str(row["segments"]),
                          f"{row['reviewed']}/{row['segments']} ({share})", str(row["codings"]),
                          key=str(row["id"]))

    @on(Input.Changed, "#home-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.show(event.value)
        self.update_help()

    @on(Input.Submitted, "#home-filter")
    def filter_submitted(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 1:
            self.capp.open_transcript(_transcript_id(table.coordinate_to_cell_key(
                Coordinate(0, 0)).row_key.value))
        else:
            table.focus()

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.capp.open_transcript(_transcript_id(event.row_key.value))

    def on_key(self, event) -> None:
        """Typing on the table filters it (no need to press f first) while the table keeps
        the focus: Enter opens the highlighted transcript, q still quits, backspace edits
        the filter. f puts the cursor in the filter, to type any letter (q too)."""
        filter_input = self.query_one("#home-filter", Input)
        if self.focused is not self.query_one(DataTable):
            return
        char = event.character
        if event.key == "backspace" and filter_input.value:
            event.stop()
            filter_input.value = filter_input.value[:-1]
        elif char and char.isprintable() and not char.isspace() and char not in "/?qf":
            event.stop()
            filter_input.value += char

    def action_search(self) -> None:
        self.capp.action_search()

    def action_focus_filter(self) -> None:
        self.query_one("#home-filter", Input).focus()

    def action_focus_table(self) -> None:
        filter_input = self.query_one("#home-filter", Input)
        if filter_input.value:  # Esc clears the filter, wherever the cursor is
            filter_input.value = ""
        self.query_one(DataTable).focus()


def _transcript_id(row_key: str | None) -> int:
    """The transcript id a row of the table is keyed by (every row has one)."""
    if row_key is None:
        raise LookupError("a transcript row without a key")
    return int(row_key)
