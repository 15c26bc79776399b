"""What every workbench screen shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

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

    def action_back(self) -> None:
        """Esc on a screen pushed over the workbench: close the help, else leave."""
        if not self.close_help():
            self.app.pop_screen()
