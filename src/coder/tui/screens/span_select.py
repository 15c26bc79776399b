"""Selecting and coding words inside the current segment: the coding screen's span keys.

The movement is :mod:`coder.selection` (Textual-free); the changes are the core functions
of :mod:`coder.store.spans`. Out of selection mode every key here falls through
(``SkipAction``) to what it does otherwise, e.g. a code key. A selection never leaves its
segment: moving to another segment ends it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import Static

from coder import selection as sel
from coder.store.spans import code_span, set_span_memo, uncode_span
from coder.store.workbench import SpanMark, refresh_segments
from coder.tui.widgets.transcript_view import TranscriptView

SPAN_BINDINGS = [
    Binding("v", "span_start", "Select words", id="span.start"),
    Binding("w,right", "span_move('word', 1)", "Next word", show=False, id="span.word_next"),
    Binding("b,left", "span_move('word', -1)", "Previous word", show=False,
            id="span.word_previous"),
    Binding("W,e", "span_extend('word', 1)", "Grow by a word", show=False,
            id="span.word_grow"),
    Binding("B", "span_extend('word', -1)", "Grow back by a word", show=False,
            id="span.word_grow_back"),
    Binding("shift+right", "span_extend('word', 1, True)", "Select / grow by a word",
            show=False, id="span.shift_right"),
    Binding("shift+left", "span_extend('word', -1, True)", "Select / grow back by a word",
            show=False, id="span.shift_left"),
    Binding("right_parenthesis", "span_move('sentence', 1)", "Next sentence", show=False,
            id="span.sentence_next"),
    Binding("left_parenthesis", "span_move('sentence', -1)", "Previous sentence", show=False,
            id="span.sentence_previous"),
    Binding("right_curly_bracket", "span_extend('sentence', 1)", "Grow by a sentence",
            show=False, id="span.sentence_grow"),
    Binding("left_curly_bracket", "span_extend('sentence', -1)", "Grow back by a sentence",
            show=False, id="span.sentence_grow_back"),
    Binding("right_square_bracket", "span_move('clause', 1)", "Next clause", show=False,
            id="span.clause_next"),
    Binding("left_square_bracket", "span_move('clause', -1)", "Previous clause", show=False,
            id="span.clause_previous"),
    Binding("greater_than_sign", "span_extend('clause', 1)", "Grow by a clause", show=False,
            id="span.clause_grow"),
    Binding("less_than_sign", "span_extend('clause', -1)", "Grow back by a clause",
            show=False, id="span.clause_grow_back"),
    Binding("l", "span_nudge('end', 1)", "End one character on", show=False,
            id="span.end_right"),
    Binding("h", "span_nudge('end', -1)", "End one character back", show=False,
            id="span.end_left"),
    Binding("L", "span_nudge('start', 1)", "Start one character on", show=False,
            id="span.start_right"),
    Binding("H", "span_nudge('start', -1)", "Start one character back", show=False,
            id="span.start_left"),
    Binding("semicolon", "span_next_coded(1)", "Select your next coded span", show=False,
            id="span.coded_next"),
    Binding("comma", "span_next_coded(-1)", "Select your previous coded span", show=False,
            id="span.coded_previous"),
    Binding("delete,backspace", "span_remove", "Remove spans under the selection",
            show=False, id="span.remove"),
]


class SpanSelectMixin:
    """The span keys of :class:`~coder.tui.screens.coding.CodingScreen`."""

    last_code: int | None = None  # the code last applied here (``y`` repeats it)
    query_one: Any
    capp: Any
    codes: list[dict[str, Any]]
    key_map: dict[str, int]
    current_suggestions: list[Any]
    app: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "span_start" and "v" in self.key_map:
            return False  # the codebook gives v to a code: that wins (shift+→ selects)
        return super().check_action(action, parameters)  # type: ignore[misc]

    # -- state -----------------------------------------------------------------------------
    def _span_view(self) -> tuple[TranscriptView, Any]:
        view = self.query_one(TranscriptView)
        if not view.segments:
            raise SkipAction()
        return view, view.segments[view.current]

    @property
    def selecting(self) -> bool:
        return self.query_one(TranscriptView).span is not None

    def span_select(self, chosen: sel.Selection | None) -> None:
        """Show ``chosen`` (None: leave selection mode) with its details and status."""
        view = self.query_one(TranscriptView)
        view.set_span(chosen)
        self.show_span_details()
        self.update_status(suggest=False)  # type: ignore[attr-defined]

    def span_words(self) -> str:
        view, seg = self._span_view()
        chosen = view.span
        if chosen is None:
            return ""
        words = seg.text[chosen.start:chosen.end]
        short = words if len(words) <= 40 else words[:39] + "…"
        return f"“{short}” ({chosen.start}-{chosen.end})"

    # -- keys ------------------------------------------------------------------------------
    def action_span_start(self) -> None:
        view, seg = self._span_view()
        self.span_select(None if view.span is not None else sel.first(seg.text))

    def _span_or_start(self) -> tuple[Any, Any] | None:
        view, seg = self._span_view()
        return (view, seg) if view.span is not None else None

    def action_span_move(self, kind: str, step: int) -> None:
        found = self._span_or_start()
        if found is None:
            raise SkipAction()
        view, seg = found
        self.span_select(sel.move(seg.text, view.span, kind, step))

    def action_span_extend(self, kind: str, step: int, start: bool = False) -> None:
        """Grow the selection; with ``start`` (shift+arrows) begin one when there is none."""
        view, seg = self._span_view()
        if view.span is None:
            if not start:
                raise SkipAction()
            self.span_select(sel.first(seg.text))
            return
        self.span_select(sel.extend(seg.text, view.span, kind, step))

    def action_span_next_coded(self, step: int) -> None:
        """Put the selection on my next (previous) coded span in the segment, to adjust it
        with h/l/H/L and re-code it; without a selection, start at the first one."""
        view, seg = self._span_view()
        mine = sorted({(m.start, m.end) for m in seg.my_spans(self.capp.coder)})
        if not mine:
            if view.span is None:
                raise SkipAction()
            self.notify("You have no spans in this segment.")  # type: ignore[attr-defined]
            return
        here = view.span
        if here is None:
            found = mine[0] if step > 0 else mine[-1]
        elif step > 0:
            found = next((m for m in mine if m > (here.start, here.end)), mine[0])
        else:
            found = next((m for m in reversed(mine) if m < (here.start, here.end)), mine[-1])
        self.span_select(sel.Selection(*found))

    def action_span_nudge(self, edge: str, delta: int) -> None:
        found = self._span_or_start()
        if found is None:
            raise SkipAction()
        view, seg = found
        self.span_select(sel.nudge(seg.text, view.span, edge, delta))

    def action_span_remove(self) -> None:
        found = self._span_or_start()
        if found is None:
            raise SkipAction()
        view, seg = found
        mine = self._spans_under(seg, view.span, mine_only=True)
        if not mine:
            self.notify("None of your spans is under the selection.")  # type: ignore
            return
        store, coder = self.capp.store, self.capp.coder

        def change() -> list[tuple[int, int]]:
            removed: list[tuple[int, int]] = []
            with store.transaction("uncode span"):
                for code_id in dict.fromkeys(m.code_id for m in mine):
                    removed += uncode_span(store, seg.id, code_id, view.span.start,
                                           view.span.end, coder=coder)
            return removed

        saved, removed = self.capp.write(change)
        if saved:
            lost = Counter(m.code_id for m in mine)
            self._span_changed(view, seg, {code_id: -n for code_id, n in lost.items()})
            self.done(f"removed {len(removed)} span{'s' if len(removed) != 1 else ''} "  # type: ignore[attr-defined]
                      f"from ¶{seg.ordinal}")

    # -- coding the selection --------------------------------------------------------------
    def span_code(self, code_id: int) -> None:
        """Code the selection (a code key, the picker, ``y``); the same code on exactly
        these words again takes it off."""
        view, seg = self._span_view()
        chosen = view.span
        assert chosen is not None
        store, coder = self.capp.store, self.capp.coder
        name = next((c["name"] for c in self.codes if c["id"] == code_id), "?")
        same = [m for m in seg.my_spans(coder) if m.code_id == code_id
                and (m.start, m.end) == (chosen.start, chosen.end)]
        if same:
            def change() -> Any:
                with store.transaction("uncode span"):
                    return uncode_span(store, seg.id, code_id, chosen.start, chosen.end,
                                       coder=coder)
        else:
            def change() -> Any:
                with store.transaction("code span"):
                    return code_span(store, seg.id, code_id, chosen.start, chosen.end,
                                     coder=coder)
        saved, result = self.capp.write(change)
        if not saved:
            return
        self.last_code = code_id
        delta = -len(result) if same else 1 - len(result.replaced) if \
            result.action != "unchanged" else 0
        self._span_changed(view, seg, {code_id: delta})
        if same:
            message = f"removed {name!r} from {self.span_words()}"
        elif result.action == "replaced":
            message = f"re-coded {name!r} on {self.span_words()}"
        else:
            message = f"coded {self.span_words()} {name!r}"
        self.done(message)  # type: ignore[attr-defined]

    def span_accept(self) -> None:
        """``y`` in selection mode: the first suggestion's code, else the last code used."""
        code_id = (self.current_suggestions[0].code_id if self.current_suggestions
                   else self.last_code)
        if code_id is None:
            self.action_pick_code()  # type: ignore[attr-defined]
            return
        self.span_code(code_id)

    def _span_changed(self, view: TranscriptView, seg: Any, counts: dict[int, int]) -> None:
        """Re-read the segment's codings; ``counts``: how many codings each code gained."""
        refresh_segments(self.capp.store, [seg], self.capp.coder)
        view.segment_changed(view.current)
        for code_id, delta in counts.items():
            if delta:
                self._bump_count(code_id, delta)  # type: ignore[attr-defined]
        self.show_span_details()

    # -- details ---------------------------------------------------------------------------
    def _spans_under(self, seg: Any, chosen: sel.Selection | None,
                     mine_only: bool = False) -> list[SpanMark]:
        if chosen is None:
            return []
        view = self.query_one(TranscriptView)
        return [m for m in seg.spans if m.start < chosen.end and chosen.start < m.end
                and (m.coder == self.capp.coder or (view.show_others and not mine_only))]

    def show_span_details(self) -> None:
        """With words selected, the details panel shows the spans under them."""
        view = self.query_one(TranscriptView)
        if view.span is None or not view.segments:
            self.show_code_details(None)  # type: ignore[attr-defined]
            return
        seg = view.segments[view.current]
        parts: list[Any] = [("Selected ", "bold"), self.span_words(), "\n",
                            ("code key / c / y code it · del removes · m memo · "
                             "Esc leaves\n", "dim")]
        names = {c["id"]: c["name"] for c in self.codes}
        for mark in self._spans_under(seg, view.span):
            words = seg.text[mark.start:mark.end]
            parts += [("› ", "bold"), (names.get(mark.code_id, "?"), "bold"),
                      f" · {mark.coder} · ", (f"“{words[:60]}”", "italic"),
                      f" ({mark.start}-{mark.end})\n"]
            if mark.memo:
                parts += [("  memo: ", "dim"), mark.memo, "\n"]
        self.query_one("#code-details", Static).update(Text.assemble(*parts))

    def span_memo(self) -> bool:
        """``m`` in selection mode: the memo on my span under the selection (True when
        there is one to edit)."""
        from coder.tui.screens.modals import MemoModal

        view, seg = self._span_view()
        mine = self._spans_under(seg, view.span, mine_only=True)
        if not mine:
            return False
        mark = mine[0]
        names = {c["id"]: c["name"] for c in self.codes}
        store, coder = self.capp.store, self.capp.coder

        def saved(value: str | None) -> None:
            if value is None:
                return

            def change() -> str:
                with store.transaction("span memo"):
                    return set_span_memo(store, mark.coding_id, value, coder=coder)

            ok, what = self.capp.write(change)
            if ok:
                self._span_changed(view, seg, {})
                self.done(f"memo {what} on {names.get(mark.code_id)!r} "  # type: ignore[attr-defined]
                          f"“{seg.text[mark.start:mark.end][:30]}”")

        self.app.push_screen(MemoModal(f"Memo on {names.get(mark.code_id)!r} over "
                                       f"“{seg.text[mark.start:mark.end][:40]}”",
                                       mark.memo or ""), saved)
        return True
