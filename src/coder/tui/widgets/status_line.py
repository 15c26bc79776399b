"""A one-line status bar that repaints without asking for a new layout."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class StatusLine(Widget):
    """Shows ``text``; changing it repaints this line only."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; }
    """

    text: reactive[Text | str] = reactive("", layout=False)

    def render(self) -> Text | str:
        return self.text
