"""What every workbench screen shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable

if TYPE_CHECKING:
    from coder.tui.app import CoderApp


class CoderScreen(Screen):
    """A screen of the workbench, with typed access to the app (study, store, coder)."""

    @property
    def capp(self) -> CoderApp:
        return self.app  # type: ignore[return-value]

    def close_help(self) -> bool:
        """Esc closes the key help first, if it is open; True when it did."""
        if self.query("HelpPanel"):
            self.app.action_hide_help_panel()
            return True
        return False

    def database_changed(self) -> None:
        """Another process wrote to the study: re-read what this screen shows (the app
        calls it when ``PRAGMA data_version`` moves)."""

    def action_back(self) -> None:
        """Esc on a screen pushed over the workbench: close the help, else leave."""
        if not self.close_help():
            self.app.pop_screen()


def row_key_at_cursor(table: DataTable) -> str | None:
    """The key of the highlighted row (None when the table is empty)."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value


def move_cursor_to(table: DataTable, key: str | None) -> None:
    """Highlight the row with ``key`` again after the table was refilled (if it is there)."""
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key), animate=False)
