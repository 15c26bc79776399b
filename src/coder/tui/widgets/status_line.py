"""Lines of text that repaint without a layout pass, rendered once per change.

The status bar and the suggestions panel change on every key. As a Static, each change
asks for a new layout; as a plain widget, Textual converts the Rich text again on every
frame it is part of (2 ms each, measured). This widget renders its text to strips once per
change (and width) and hands them out line by line (Textual's line API).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget


class StatusLine(Widget):
    """Shows ``text`` (a fixed height from CSS); changing it repaints these lines only."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; }
    """

    text: reactive[Text | str] = reactive("", layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._strips: list[Strip] | None = None
        self._key: tuple[int, object] | None = None

    def watch_text(self) -> None:
        self._strips = None

    def render(self) -> Text | str:  # what tests and screenshots read
        return self.text

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        style = self.rich_style
        if self._strips is None or self._key != (width, style):
            text = self.text if isinstance(self.text, Text) else Text(self.text)
            console = self.app.console
            options = console.options.update_width(max(width, 1))
            lines = console.render_lines(text, options, style=style, pad=True)
            self._strips = [Strip(line, width) for line in lines]
            self._key = (width, style)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, style)
