"""The transcript: every segment rendered line by line on demand, however long it is.

A :class:`ScrollView` with ``render_line`` and an LRU cache of rendered lines (as Textual's
DataTable and the log viewer Toolong do), never one widget per segment. The layout is a
list of segment heights and their prefix sums; a line number maps to its segment by
bisection.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from coder.formatting import clock, visible
from coder.selection import Selection, between
from coder.store.workbench import SegmentView, SpanMark
from coder.tui.wrap import wrap_offsets

INDENT = 6


@dataclass(frozen=True)
class CodeStyle:
    """How a code's chip looks."""

    name: str
    color: str


def _contrast(hex_color: str) -> str:
    value = hex_color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    try:
        r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "white"
    return "black" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "white"


class TranscriptView(ScrollView, can_focus=True, inherit_bindings=False):
    # No scrolling keys of its own: the coding screen's keys move the current segment.
    """Segments with number, speaker, time, wrapped text and code chips."""

    DEFAULT_CSS = """
    TranscriptView { background: $surface; }
    """

    current: reactive[int] = reactive(0, always_update=True, init=False, repaint=False)
    show_others: reactive[bool] = reactive(False, init=False)

    class Clicked(Message):
        """A segment was clicked."""

        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    class Dragged(Message):
        """The mouse selected characters inside one segment's text."""

        def __init__(self, index: int, selection: Selection) -> None:
            self.index = index
            self.selection = selection
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.segments: list[SegmentView] = []
        self.codes: dict[int, CodeStyle] = {}
        self.range_anchor: int | None = None  # range selection: from anchor to current
        self._wrapped: list[list[tuple[int, int]]] = []
        self._chips: list[list[list[tuple[int, str]]]] = []
        self._heights: list[int] = []
        self._starts: list[int] = [0]
        self._width = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(2048)
        self._versions: list[int] = []
        self._selection_was_range = False
        self._flags: list[bool] = []
        self._reviewed = 0
        self._highlights: dict[int, list[tuple[int, int]]] = {}  # index -> spans in its text
        self.coder = ""  # whose spans are "mine" (the others' show with show_others)
        self.span: Selection | None = None  # words selected in the current segment
        self._drag_from: tuple[int, int] | None = None  # (segment index, offset) of a mouse drag

    # -- data ------------------------------------------------------------------------------
    def load(self, segments: list[SegmentView], codes: dict[int, CodeStyle],
             current: int = 0) -> None:
        self.segments = segments
        self.codes = codes
        self._versions = [0] * len(segments)
        self.range_anchor = None
        self._flags = [s.reviewed for s in segments]
        self._reviewed = sum(self._flags)
        if self.size.width:  # otherwise the first resize lays it out, once
            self._layout(self._text_width())
        else:
            self._width, self._heights = 0, []
        self.set_reactive(TranscriptView.current, min(current, max(len(segments) - 1, 0)))
        self._cache.clear()
        self.refresh()
        self.call_after_refresh(self.scroll_to_current, False)

    def set_codes(self, codes: dict[int, CodeStyle]) -> None:
        self.codes = codes
        self._layout(self._width)
        self._cache.clear()
        self.refresh()

    def segment_changed(self, index: int) -> None:
        """Re-render one segment whose codes or reviewed mark changed."""
        if not 0 <= index < len(self.segments) or len(self._heights) != len(self.segments):
            return
        self._versions[index] += 1
        seg = self.segments[index]
        if self._flags[index] != seg.reviewed:
            self._flags[index] = seg.reviewed
            self._reviewed += 1 if seg.reviewed else -1
        old = self._heights[index]
        self._chips[index] = self._chip_lines(self.segments[index])
        self._heights[index] = self._height(index)
        if self._heights[index] != old:
            self._starts = [0, *accumulate(self._heights)]
            self.virtual_size = Size(self._width, self._starts[-1])
            top = self._starts[index] - int(self.scroll_y)
            self.refresh_lines(max(top, 0), max(self.size.height - max(top, 0), 0))
        else:
            self._refresh_segment(index)

    def set_highlights(self, index: int | None, spans: list[tuple[int, int]]) -> None:
        """Mark evidence in one segment's text (clearing any other segment's marks)."""
        for old in list(self._highlights):
            if old != index:
                del self._highlights[old]
                self._versions[old] += 1
                self._refresh_segment(old)
        if index is None or not 0 <= index < len(self.segments):
            return
        if self._highlights.get(index) != spans:
            self._highlights[index] = spans
            self._versions[index] += 1
            self._refresh_segment(index)

    def set_span(self, selection: Selection | None) -> None:
        """Select words in the current segment (None: leave the selection)."""
        if selection != self.span:
            self.span = selection
            if 0 <= self.current < len(self._versions):
                self._versions[self.current] += 1
                self._refresh_segment(self.current)

    def _refresh_segment(self, index: int) -> None:
        """Repaint the visible lines of one segment."""
        if 0 <= index < len(self._heights):
            top = self._starts[index] - int(self.scroll_y)
            bottom = top + self._heights[index]
            top, bottom = max(top, 0), min(bottom, self.size.height)
            if bottom > top:
                self.refresh_lines(top, bottom - top)

    # -- layout ----------------------------------------------------------------------------
    def _text_width(self) -> int:
        # Always leave room for the vertical scrollbar, which appears only once laid out.
        scrollbar = self.styles.scrollbar_size_vertical or 0
        return max(self.size.width - INDENT - scrollbar - 1, 20)

    @property
    def reviewed_count(self) -> int:
        """How many segments the coder has reviewed."""
        return self._reviewed

    def _layout(self, width: int) -> None:
        self._width = width
        self._flags = [s.reviewed for s in self.segments]
        self._reviewed = sum(self._flags)
        self._wrapped = [wrap_offsets(s.text, width) for s in self.segments]
        self._chips = [self._chip_lines(s) for s in self.segments]
        self._heights = [self._height(i) for i in range(len(self.segments))]
        self._starts = [0, *accumulate(self._heights)]
        self.virtual_size = Size(width, self._starts[-1])

    def _height(self, index: int) -> int:
        # Header, text, then the chips line, which is blank (a separator) without codes:
        # coding a segment does not change its height, so nothing below it moves.
        return 1 + len(self._wrapped[index]) + max(1, len(self._chips[index]))

    def _chip_lines(self, seg: SegmentView) -> list[list[tuple[int, str]]]:
        """Chips wrapped to the width: lists of (code id, label)."""
        if not seg.mine and not seg.spans and not (self.show_others and seg.others):
            return []
        chips = [(cid, self.codes[cid].name) for cid in self._ordered(seg.mine)]
        mine_spans = {s.code_id for s in seg.spans if s.coder == self.coder}
        # A span chip starts with ›: the code covers some words, not the whole segment.
        chips += [(cid, f"› {self.codes[cid].name}") for cid in self._ordered(mine_spans)]
        if self.show_others:
            for cid, who in seg.others.items():
                if cid in self.codes:
                    chips.append((-cid, f"{self.codes[cid].name} · {', '.join(who)}"))
            spans: dict[int, list[str]] = {}
            for mark in seg.spans:
                if mark.coder != self.coder and mark.coder not in spans.get(mark.code_id, []):
                    spans.setdefault(mark.code_id, []).append(mark.coder)
            chips += [(-cid, f"› {self.codes[cid].name} · {', '.join(spans[cid])}")
                      for cid in self._ordered(set(spans))]
        lines: list[list[tuple[int, str]]] = []
        line: list[tuple[int, str]] = []
        used = 0
        for chip in chips:
            size = len(chip[1]) + 3
            if line and used + size > max(self._width, 20):
                lines.append(line)
                line, used = [], 0
            line.append(chip)
            used += size
        if line:
            lines.append(line)
        return lines

    def _ordered(self, ids: set[int]) -> list[int]:
        return [cid for cid in self.codes if cid in ids]

    def on_resize(self) -> None:
        width = self._text_width()
        if self.segments and (width != self._width or len(self._heights) != len(self.segments)):
            self._layout(width)
            self._cache.clear()
            self.scroll_to_current(False)

    def watch_show_others(self) -> None:
        self._layout(self._width)
        self._cache.clear()
        self.refresh()

    # -- navigation ------------------------------------------------------------------------
    def index_at(self, line: int) -> int:
        return max(0, min(bisect_right(self._starts, line) - 1, len(self.segments) - 1))

    def watch_current(self, old: int, new: int) -> None:
        # Cached lines know whether they belong to the current segment: nothing to clear.
        before = self.scroll_y
        self.scroll_to_current(False)
        if self.scroll_y != before or self.range_anchor is not None or self._selection_was_range:
            self.refresh()
        else:  # repaint only the two segments whose highlight changed
            self._refresh_segment(old)
            self._refresh_segment(new)
        self._selection_was_range = self.range_anchor is not None

    def scroll_to_current(self, animate: bool = False) -> None:
        if not self.segments or len(self._heights) != len(self.segments):
            return
        index = self.current
        top, height = self._starts[index], self._heights[index]
        view_top, view_height = int(self.scroll_y), self.scrollable_content_region.height
        if view_top <= top and top + min(height, view_height) <= view_top + view_height:
            return  # already in view: keep the page still
        # Out of view: bring it to a third of the way down, so moving on rarely scrolls.
        target = top - view_height // 3 if height < view_height * 2 // 3 else top
        self.scroll_to(y=max(0, target), animate=animate, immediate=True, force=True)

    def segment_top(self, index: int) -> int:
        """The row of the view where segment ``index`` starts (negative: above it)."""
        if not 0 <= index < len(self._heights):
            return 0
        return self._starts[index] - int(self.scroll_y)

    def selection(self) -> range:
        """The selected segments (the current one, or anchor..current)."""
        if self.range_anchor is None:
            return range(self.current, self.current + 1)
        low, high = sorted((self.range_anchor, self.current))
        return range(low, high + 1)

    def page_size(self) -> int:
        """How many segments fit on a screen, roughly (at least one)."""
        if not self.segments:
            return 1
        avg = self._starts[-1] / len(self.segments)
        return max(1, int(self.scrollable_content_region.height / max(avg, 1)))

    def on_click(self, event) -> None:
        if self.segments:
            self.post_message(self.Clicked(self.index_at(int(self.scroll_y) + event.y)))

    def offset_at(self, x: int, y: int, index: int | None = None) -> tuple[int, int] | None:
        """(segment index, character offset in its text) under screen cell ``(x, y)``; with
        ``index``, clamped to that segment (before it: its start; after it: its end)."""
        if not self.segments or len(self._heights) != len(self.segments):
            return None
        line = int(self.scroll_y) + y
        found = self.index_at(line)
        if index is not None and found != index:
            return index, 0 if found < index else len(self.segments[index].text)
        wrapped = self._wrapped[found]
        k = line - self._starts[found]
        if not wrapped:
            return found, 0
        if k < 1:
            return found, wrapped[0][0]
        if k > len(wrapped):
            return found, wrapped[-1][1]
        start, end = wrapped[k - 1]
        text, column, pos = self.segments[found].text, x - INDENT, start
        while pos < end and column > 0:
            column -= cell_len(text[pos])
            pos += 1
        return found, pos

    def on_mouse_down(self, event) -> None:
        hit = self.offset_at(event.x, event.y)
        if hit is not None and event.button == 1:
            self._drag_from = hit
            self.capture_mouse()

    def on_mouse_move(self, event) -> None:
        if self._drag_from is not None:
            self._drag_to(event, done=False)

    def on_mouse_up(self, event) -> None:
        if self._drag_from is not None:
            self._drag_to(event, done=True)
            self._drag_from = None
            self.release_mouse()

    def _drag_to(self, event, *, done: bool) -> None:
        assert self._drag_from is not None
        index, start = self._drag_from
        hit = self.offset_at(event.x, event.y, index)
        if hit is None or hit[1] == start:
            return
        chosen = between(self.segments[index].text, start, hit[1])
        if chosen is None:
            return
        if index == self.current:
            self.set_span(chosen)  # follow the mouse while it drags
        if done:
            self.post_message(self.Dragged(index, chosen))

    # -- rendering -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        line = int(self.scroll_y) + y
        width = self.scrollable_content_region.width
        if not self.segments or line >= self._starts[-1] or len(self._heights) != len(
                self.segments):
            return Strip.blank(width, self.rich_style)
        index = self.index_at(line)
        selected = index in self.selection()
        key = (index, line - self._starts[index], width, self._versions[index],
               index == self.current, selected, self.show_others)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_segment_line(index, line - self._starts[index], width, selected)
            self._cache[key] = strip
        return strip

    def _text_line(self, index: int, seg: SegmentView, start: int, end: int,
                   base: Style) -> list[Segment]:
        """One wrapped line of a segment's text: coded spans underlined in their code's
        colour (bold and double underline where codes overlap; the shortest span's colour
        shows), suggestion evidence on yellow, the selection in reverse video."""
        spans = [m for m in seg.spans if m.start < end and start < m.end
                 and (m.coder == self.coder or self.show_others)]
        marks = [(a, b) for a, b in self._highlights.get(index, ()) if a < end and start < b]
        chosen = self.span if index == self.current else None
        if not spans and not marks and chosen is None:
            return [Segment(seg.text[start:end], base)]
        cuts = {start, end}
        for a, b in [(m.start, m.end) for m in spans] + marks + (
                [(chosen.start, chosen.end)] if chosen else []):
            cuts.update(c for c in (a, b) if start < c < end)
        points = sorted(cuts)
        parts = []
        for low, high in zip(points, points[1:], strict=False):
            style = base + self._span_style([m for m in spans if m.start <= low < m.end])
            if any(a <= low < b for a, b in marks):
                style += Style(color="black", bgcolor="#ffd75f")
            if chosen is not None and chosen.start <= low < chosen.end:
                style += Style(reverse=True, bold=True)
            parts.append(Segment(seg.text[low:high], style))
        return parts

    def _span_style(self, covering: list[SpanMark]) -> Style:
        if not covering:
            return Style()
        inner = min(covering, key=lambda m: m.end - m.start)
        code = self.codes.get(inner.code_id)
        several = len({m.code_id for m in covering}) > 1
        return Style(color=code.color if code else "#888888", underline=not several,
                     underline2=several, bold=several, italic=inner.coder != self.coder)

    def _render_segment_line(self, index: int, k: int, width: int, selected: bool) -> Strip:
        seg = self.segments[index]
        base = self.rich_style
        if index == self.current:
            base = base + Style(bgcolor="#243447")
        elif selected:
            base = base + Style(bgcolor="#2e2a40")
        dim = base + Style(dim=True)
        bar = Segment("▌ " if index == self.current else "  ",
                      base + Style(color="#4aa3ff", bold=True))
        parts: list[Segment] = [bar]
        wrapped = self._wrapped[index]
        if k == 0:
            mark = "✓" if seg.reviewed else " "
            parts += [Segment(f"{mark}", base + Style(color="#5fd787", bold=True)),
                      Segment(f" ¶{seg.ordinal:<4} ", base + Style(bold=True)),
                      Segment("✎ " if seg.memo else "", base + Style(color="#ffaf5f")),
                      Segment(seg.speaker or "—", base + Style(bold=True, color="#ffd787"))]
            if seg.role:
                parts.append(Segment(f" ({seg.role})", dim))
            if seg.time_start is not None:
                parts.append(Segment(f"  {clock(seg.time_start)}", dim))
        elif k <= len(wrapped):
            start, end = wrapped[k - 1]
            parts.append(Segment(" " * (INDENT - 2), base))
            parts += self._text_line(index, seg, start, end, base)
        elif k <= len(wrapped) + len(self._chips[index]):
            parts.append(Segment(" " * (INDENT - 2), base))
            for cid, label in self._chips[index][k - len(wrapped) - 1]:
                code = self.codes.get(abs(cid))
                color = code.color if code else "#888888"
                if cid > 0:
                    style = base + Style(bgcolor=color, color=_contrast(color))
                else:
                    style = base + Style(color=color, italic=True)
                parts += [Segment(f" {label} ", style), Segment(" ", base)]
        parts = [Segment(visible(p.text), p.style) for p in parts]  # ESC shown as ␛
        used = sum(cell_len(p.text) for p in parts)
        if used < width:
            parts.append(Segment(" " * (width - used), base))
            return Strip(parts, width)
        return Strip(parts).crop(0, width)
