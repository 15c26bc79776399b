"""No control character from a study reaches the terminal, whichever widget shows it.

Text from transcripts, file names, codes and coders may carry ESC sequences that would
retitle, clear or rewrite the terminal. Widgets show such characters as visible symbols
(:func:`coder.formatting.visible`); this guard is the last line: every strip Textual writes
has them removed from its text (Textual's own styling is not text, so it is untouched).
"""

from __future__ import annotations

from typing import Any

from coder.formatting import without_controls


def install() -> None:
    """Wrap Textual's ``Strip.render`` once per process."""
    from rich.segment import Segment
    from textual.strip import Strip

    original = Strip.render
    if getattr(original, "coder_guard", False):
        return

    def render(self: Strip, console: Any) -> str:
        if self._render_cache is None:
            self._segments = [
                seg if seg.control or without_controls(seg.text) is seg.text
                else Segment(without_controls(seg.text), seg.style, seg.control)
                for seg in self._segments]
        return original(self, console)

    render.coder_guard = True  # type: ignore[attr-defined]
    Strip.render = render  # type: ignore[method-assign]
