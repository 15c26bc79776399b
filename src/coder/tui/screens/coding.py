"""The coding screen: the transcript on the left, the codebook on the right, keys for all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.keys import _character_to_key
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static, Tree
from textual.widgets.tree import TreeNode

from coder.store.codes import add_code, list_codes
from coder.store.codings import apply_coding, mark_reviewed, remove_coding, unmark_reviewed
from coder.store.learner import INTERVIEWER_ROLES
from coder.store.transcripts import transcript_by_id
from coder.store.workbench import (
    changes_since,
    last_event,
    load_segments,
    refresh_segments,
    segment_ids,
)
from coder.tui.code_filter import WHY, fit_name, rank_codes
from coder.tui.screens.modals import AddCodeModal, Choice, NewCode, PickerModal
from coder.tui.screens.playback_keys import PLAYBACK_BINDINGS, PlaybackKeys
from coder.tui.screens.span_select import SPAN_BINDINGS, SpanSelectMixin
from coder.tui.widgets.status_line import StatusLine
from coder.tui.widgets.transcript_view import CodeStyle, TranscriptView

if TYPE_CHECKING:
    pass

_DEFAULT_COLOR = "#8a8a8a"
CODEBOOK_WIDTH = "workbench.codebook_width"  # the preference: the codebook panel's cells
SUGGEST_AHEAD = 10  # segments after the current one scored with it, before the coder gets there


def _shape(code: dict[str, Any]) -> dict[str, Any]:
    """A code without its counts: what the codebook panel is built from."""
    return {k: v for k, v in code.items() if k not in ("codings", "segments")}


class CodingScreen(SpanSelectMixin, PlaybackKeys):
    """Code one transcript, segment by segment (or words inside one: see span_select)."""

    BINDINGS = [
        *SPAN_BINDINGS,
        Binding("down,j", "move(1)", "Next", id="segment.next"),
        Binding("up,k", "move(-1)", "Previous", id="segment.previous"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="segment.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="segment.page_up"),
        Binding("home", "jump_to(0)", "First", show=False, id="segment.first"),
        Binding("end", "jump_to(-1)", "Last", show=False, id="segment.last"),
        Binding("shift+down", "extend(1)", "Select down", show=False, id="select.down"),
        Binding("shift+up", "extend(-1)", "Select up", show=False, id="select.up"),
        Binding("n", "next_unreviewed", "Next unreviewed", id="segment.next_unreviewed"),
        Binding("space", "toggle_reviewed", "Reviewed", show=False, id="segment.reviewed"),
        Binding("c", "pick_code", "Code…", id="code.pick"),
        Binding("a", "add_code", "New code", id="code.add"),
        Binding("m", "memo_segment", "Memo", id="memo.segment"),
        Binding("M", "memo_transcript", "Transcript memo", show=False,
                id="memo.transcript"),
        Binding("slash", "search", "Search", id="search"),
        Binding("u,ctrl+z", "undo", "Undo", id="history.undo"),
        Binding("ctrl+y", "redo", "Redo", show=False, id="history.redo"),
        Binding("ctrl+o", "toggle_others", "Others' codes", show=False, id="view.others"),
        Binding("ctrl+f", "focus_filter", "Filter codes", show=False, id="codebook.filter"),
        Binding("escape", "escape", "Back", id="screen.back"),
        Binding("tab", "switch_pane", "Transcript ⇄ codebook", show=False, id="pane.switch"),
        Binding("ctrl+left", "resize_codebook(-4)", "Narrower codebook", show=False,
                id="codebook.narrower"),
        Binding("ctrl+right", "resize_codebook(4)", "Wider codebook", show=False,
                id="codebook.wider"),
        Binding("y", "accept", "Accept suggestion", id="suggestion.accept"),
        Binding("x", "reject", "Reject suggestion", id="suggestion.reject"),
        Binding("s", "next_suggested", "Next suggested", show=False, id="suggestion.next"),
        Binding("r", "next_uncertain", "Next uncertain", show=False,
                id="suggestion.uncertain"),
        *PLAYBACK_BINDINGS,
    ]

    def __init__(self, transcript_id: int, ordinal: int | None = None) -> None:
        super().__init__()
        self.transcript_id = transcript_id
        self.start_ordinal = ordinal
        self.codes: list[dict[str, Any]] = []
        self.key_map: dict[str, int] = {}
        self.last_action = "opened"
        self.rejected: set[tuple[int, int]] = set()  # hidden until the model has learnt it

    # -- building --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # What a key changes sits together at the top (the status line, the suggestions,
        # the segments near the top third of the view): Textual repaints the rectangle
        # around every changed region, so keeping them close keeps a key's frame small.
        yield Header()
        yield StatusLine(id="status")
        with Horizontal(id="coding"):
            yield TranscriptView(id="transcript")
            with Vertical(id="codebook"):
                yield StatusLine(id="suggestions")
                yield Input(placeholder="Filter codes (ctrl+f)…", id="code-filter")
                yield Tree("Codebook", id="code-tree")
                yield Static(id="code-details")
        yield Footer()

    def on_mount(self) -> None:
        from coder.store.preferences import get_preference

        store = self.capp.store
        width = get_preference(store, self.capp.coder, CODEBOOK_WIDTH)
        if isinstance(width, int):
            self._set_codebook_width(width)
        self.transcript = transcript_by_id(store, self.transcript_id)
        self.load_codes()
        view = self.query_one(TranscriptView)
        self.last_event = last_event(store)  # before reading: later writes are refreshed
        segments = load_segments(store, self.transcript_id, self.capp.coder)
        view.coder = self.capp.coder
        # Start where the work is: the first segment I have not reviewed yet.
        start = next((i for i, s in enumerate(segments) if not s.reviewed), 0)
        if self.start_ordinal is not None:
            start = next((i for i, s in enumerate(segments)
                          if s.ordinal == self.start_ordinal), start)
        view.load(segments, self._styles(), start)
        view.focus()
        self.show_code_details(None)
        self.sub_title = f"{self.transcript['name']} · coder: {self.capp.coder}"
        self.suggester: Any = None  # a SuggestProcess once trained
        self._processes: list[Any] = []
        self.current_suggestions: list = []
        # Suggestions per segment id for the current model (scored in a worker, ahead of
        # the coder); the generation tells a result of an older model from a current one.
        self.suggestion_cache: dict[int, list] = {}
        self._suggest_generation = 0
        self._learn_timer: Timer | None = None
        self.update_status()
        self.query_one("#suggestions", StatusLine).text = Text("Suggestions: learning…", "dim")
        self.load_suggester()

    def load_codes(self) -> None:
        self.codes = list_codes(self.capp.store, self.capp.coder)
        with_keys = {c["key"]: c["id"] for c in self.codes if c["key"]}
        if with_keys:
            self.key_map = with_keys
        else:  # digits 1-9 toggle the first nine codes when the codebook gives no keys
            self.key_map = {str(n): c["id"] for n, c in enumerate(self.codes[:9], start=1)}
        self.key_of = {cid: key for key, cid in self.key_map.items()}
        # Each code key is a real binding (listed by `?`, ordered with every other key).
        # A copy with its own lists: BindingsMap.copy() shares them with the class, so code
        # keys appended to a key the screen binds too (v, w, b, …) would leak into every
        # later coding screen, stale code ids first.
        base = self._merged_bindings or self._bindings
        self._bindings = base.copy()
        self._bindings.key_to_bindings = {
            key: [b for b in found if not (b.id or "").startswith("code.toggle.")]
            for key, found in base.key_to_bindings.items()}
        names = {c["id"]: c["name"] for c in self.codes}
        for key, code_id in self.key_map.items():
            name = _character_to_key(key)
            self._bindings.key_to_bindings.setdefault(name, []).append(Binding(
                name, f"toggle_code({code_id})", f"Toggle {names[code_id]}", show=False,
                id=f"code.toggle.{code_id}"))
        self.refresh_bindings()
        self.build_tree(self.query_one("#code-filter", Input).value)

    def _styles(self) -> dict[int, CodeStyle]:
        return {c["id"]: CodeStyle(c["name"], c["color"] or _DEFAULT_COLOR) for c in self.codes}

    def build_tree(self, query: str = "") -> None:
        tree = self.query_one("#code-tree", Tree)
        tree.clear()
        tree.show_root = False
        keep: set[int] = set()
        by_id = {c["id"]: c for c in self.codes}
        ranked = rank_codes(self.codes, query) if query.strip() else [
            (c["id"], 0) for c in self.codes]
        self.filter_matches = [cid for cid, _ in ranked]  # best first
        self.filter_why = dict(ranked)
        for code in self.codes:
            if code["id"] in self.filter_matches:
                node: dict | None = code
                while node is not None:  # keep the ancestors of a match
                    keep.add(node["id"])
                    node = by_id.get(node["parent_id"])
        nodes: dict[int | None, TreeNode[int]] = {None: tree.root}
        for code in self.codes:
            if code["id"] not in keep:
                continue
            parent = nodes.get(code["parent_id"], tree.root)
            nodes[code["id"]] = parent.add(self._label(code), data=code["id"], expand=True,
                                           allow_expand=False)
        self.tree_nodes = nodes
        tree.root.expand()

    def _label(self, code: dict[str, Any]) -> Text:
        """Key, colour, count and name; a name too long for the panel is cut in the middle
        (its start and end show: "leadership v…nication", "leadership s…port")."""
        key = self.key_of.get(code["id"])
        tree = self.query_one("#code-tree", Tree)
        width = tree.content_size.width - (tree.styles.scrollbar_size_vertical or 0)
        room = width - 10 - tree.guide_depth * (code.get("depth") or 0)
        name = code["name"] if width <= 0 else fit_name(code["name"], room)
        return Text.assemble((f"[{key}] " if key else "    ", "bold"),
                             ("■ ", code["color"] or _DEFAULT_COLOR),
                             (f"{code['codings']:>3} ", "dim"), name)

    # -- the codebook panel's width ---------------------------------------------------------
    def _set_codebook_width(self, width: int) -> int:
        screen_width = self.app.size.width or 120
        width = max(24, min(width, screen_width - 40))
        panel = self.query_one("#codebook", Vertical)
        panel.styles.width = width
        panel.styles.max_width = None
        return width

    def action_resize_codebook(self, step: int) -> None:
        """ctrl+← / ctrl+→: narrow or widen the codebook panel; remembered for this coder."""
        from coder.store.preferences import set_preference

        current = self.query_one("#codebook", Vertical).size.width or 28
        width = self._set_codebook_width(current + step)
        self.capp.write(set_preference, self.capp.store, self.capp.coder, CODEBOOK_WIDTH,
                        width)
        self.call_after_refresh(self.build_tree, self.query_one("#code-filter", Input).value)
        self.done(f"codebook panel {width} columns wide (ctrl+← narrower, ctrl+→ wider)",
                  learn=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self.build_tree, self.query_one("#code-filter", Input).value)

    # -- status ----------------------------------------------------------------------------
    def update_status(self, suggest: bool = True) -> None:
        view = self.query_one(TranscriptView)
        total = len(view.segments)
        reviewed = view.reviewed_count
        seg = view.segments[view.current] if total else None
        position = f"¶{seg.ordinal} ({view.current + 1}/{total})" if seg else "empty"
        chosen = len(view.selection())
        selection = f" · {chosen} selected" if chosen > 1 else ""
        if view.span is not None:
            selection = f" · selecting {self.span_words()}"
        share = f"{reviewed / total:.0%}" if total else "0%"
        self.show_status(Text.assemble(  # the playback position goes before the hint
            (f" {self.transcript['name']} ", "bold"), f"· {position}{selection} · ",
            f"reviewed {reviewed}/{total} ({share}) · ", (self.last_action, "italic")),
            Text(" · u undo · ctrl+y redo · ? keys", "dim"))
        if suggest:
            self.show_suggestions()

    def show_code_details(self, code_id: int | None, lead: Text | None = None) -> None:
        details = self.query_one("#code-details", Static)
        code = next((c for c in self.codes if c["id"] == code_id), None)
        if code is None:
            tree = self.query_one("#code-tree", Tree)
            node = tree.cursor_node
            code = next((c for c in self.codes if node and c["id"] == node.data), None)
        if code is None:
            details.update(Text("Keys toggle codes on the current segment.", "dim"))
            return
        parts: list[Any] = [lead] if lead is not None else []
        parts += [(code["name"], "bold"), "\n"]
        if code["definition"]:
            parts += [code["definition"], "\n"]
        if code["include"]:
            parts += [("Use when: ", "bold green"), code["include"], "\n"]
        if code["exclude"]:
            parts += [("Not when: ", "bold red"), code["exclude"], "\n"]
        if code["examples"]:
            parts += [("Example: ", "bold"), (f"“{code['examples'][0]}”", "italic"), "\n"]
        details.update(Text.assemble(*parts))

    def done(self, message: str, *, learn: bool = True) -> None:
        self.last_action = message
        self.update_status()
        if learn:
            self.schedule_learning()

    # -- suggestions ----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="learn", exit_on_error=False)
    def load_suggester(self) -> None:
        """Train on this coder's work in the suggester's own process: the screen is usable
        meanwhile, and the training never holds this process's GIL (see suggest_process)."""
        from coder.tui.suggest_process import SuggestProcess

        process = SuggestProcess(self.capp.study.db_path, self.capp.coder,
                                 self.capp.study.settings.nlp_model)
        self._processes.append(process)
        try:
            process.wait_ready()
        except Exception as exc:
            self.app.call_from_thread(self._suggestions_failed, exc)
            return
        self.app.call_from_thread(self._suggester_ready, process)

    def _suggester_ready(self, suggester: Any) -> None:
        if not self.is_attached:  # the screen closed while it trained
            suggester.close()
            return
        if suggester.coder != self.capp.coder:  # the coder switched while it trained
            return
        self.suggester = suggester
        self._model_changed()

    def _model_changed(self) -> None:
        """The model learnt something: every cached suggestion is stale."""
        self._suggest_generation += 1
        self.suggestion_cache.clear()
        self.show_suggestions()

    def restart_suggester(self) -> None:
        """Another coder: another model (the old process stops)."""
        self.stop_suggester()
        self.suggestion_cache.clear()
        self._suggest_generation += 1
        self.current_suggestions = []
        self.query_one("#suggestions", StatusLine).text = Text("Suggestions: learning…", "dim")
        self.load_suggester()

    def stop_suggester(self) -> None:
        self.suggester = None
        while self._processes:
            self._processes.pop().close()

    def on_unmount(self) -> None:
        self.stop_suggester()

    def schedule_learning(self) -> None:
        """After a change, update the model once typing pauses (debounced, in a worker)."""
        if self.suggester is None:
            return
        if self._learn_timer is not None:
            self._learn_timer.stop()
        self._learn_timer = self.set_timer(0.4, self.update_suggester)

    @work(thread=True, exclusive=True, group="learn", exit_on_error=False)
    def update_suggester(self) -> None:
        suggester = self.suggester
        if suggester is None or suggester.coder != self.capp.coder:
            return
        try:
            suggester.update()
        except Exception as exc:
            self.app.call_from_thread(self._suggestions_failed, exc)
            return
        self.app.call_from_thread(self._model_changed)

    def show_suggestions(self) -> None:
        """The current segment's suggestions: from the cache at once, else scored in a
        worker while the panel says so (the keys never wait for the model)."""
        if not self.query("#suggestions"):  # a worker finished after the screen closed
            return
        view = self.query_one(TranscriptView)
        if self.suggester is None or not view.segments:
            return
        seg = view.segments[view.current]
        found = self.suggestion_cache.get(seg.id)
        if found is None:
            self.current_suggestions = []
            view.set_highlights(None, [])
            self.query_one("#suggestions", StatusLine).text = Text(
                "Suggestions: working…", "dim")
            self.score_suggestions(view.current)
            return
        self._show_found(view.current, found)

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False)
    def score_suggestions(self, index: int) -> None:
        """Score the segment at ``index`` and the next few (the coder is likely to go
        there) through the suggester's public ``suggest``, on this thread's own store."""
        from textual.worker import get_current_worker

        suggester, generation = self.suggester, self._suggest_generation
        segments = self.query_one(TranscriptView).segments[index:index + 1 + SUGGEST_AHEAD]
        ids = [s.id for s in segments if s.id not in self.suggestion_cache]
        if suggester is None or not ids or get_current_worker().is_cancelled:
            return
        try:
            found = suggester.suggest(ids, top=5, min_score=0.15)
        except Exception as exc:  # a learning problem must never stop the coding
            self.app.call_from_thread(self._suggestions_failed, exc)
            return
        self.app.call_from_thread(self._suggestions_scored, generation,
                                  {i: found.get(i, []) for i in ids})

    def _suggestions_scored(self, generation: int, found: dict[int, list]) -> None:
        if generation != self._suggest_generation:
            return  # an older model's: the newer one is being asked
        self.suggestion_cache.update(found)
        view = self.query_one(TranscriptView)
        if view.segments and view.segments[view.current].id in found:
            self._show_found(view.current, found[view.segments[view.current].id])

    def _suggestions_failed(self, exc: Exception) -> None:
        self.query_one("#suggestions", StatusLine).text = Text(
            f"Suggestions unavailable: {exc}", "dim")

    def _show_found(self, index: int, found: list) -> None:
        panel = self.query_one("#suggestions", StatusLine)
        view = self.query_one(TranscriptView)
        seg = view.segments[index]
        spanned = {m.code_id for m in seg.my_spans(self.capp.coder)}
        found = [s for s in found if s.code_id not in seg.mine and s.code_id not in spanned
                 and (seg.id, s.code_id) not in self.rejected][:3]
        self.current_suggestions = found
        spans = [(e.start, e.end) for s in found[:1] for e in s.evidence
                 if e.start is not None and e.end is not None]
        view.set_highlights(view.current, spans)
        if not found:
            left_out = self.suggester.left_out() and seg.role.strip().lower() in (
                INTERVIEWER_ROLES)
            panel.text = Text(f"Suggestions: none — a {seg.role}'s turn is context for the "
                              "answers, not suggested" if left_out
                              else "Suggestions: none for this segment", "dim")
            return
        lines: list[Any] = [("Suggestions", "bold"), (" (y accept · x reject the first)\n",
                                                        "dim")]
        for n, sug in enumerate(found):
            filled = round(sug.score * 10)
            why = ", ".join(sug.sources)
            words = "; ".join(f"“{e.text}”" for e in sug.evidence[:2] if e.text)
            lines += [("▸ " if n == 0 else "  ", "bold"),
                      ("●" if sug.confident else "○", "green" if sug.confident else "dim"),
                      f" {sug.code} ", ("█" * filled + "░" * (10 - filled), "cyan"),
                      f" {sug.score:.2f} ", (why, "dim"),
                      (f" {words}" if words else "", "italic dim"), "\n"]
        if not found[0].confident:  # never silently unsure: say why
            note = self.suggester.confidence_note(found[0].code_id)
            if note:
                lines += [(f"  {found[0].code}: {note}", "dim"), "\n"]
        panel.text = Text.assemble(*lines, no_wrap=True, overflow="ellipsis")

    def _feedback(self, accept: bool) -> None:
        from coder.store.feedback import accept_suggestion, reject_suggestion

        view = self.query_one(TranscriptView)
        if view.span is not None:  # words selected: y codes them, x takes spans off
            self.span_accept() if accept else self.action_span_remove()
            return
        if not self.current_suggestions or not view.segments:
            self.notify("No suggestion for this segment.")
            return
        sug = self.current_suggestions[0]
        index = view.current
        seg = view.segments[index]
        extra = {}
        if accept:
            from coder.spans import pattern_spans

            hits = [(e.start, e.end) for e in sug.evidence if e.source == "rule"
                    and e.start is not None and e.end is not None]
            if hits and self.capp.accept_as_span:  # a setting (ctrl+p): the hits' sentences
                extra["spans"] = pattern_spans(seg.text, hits)
        action = accept_suggestion if accept else reject_suggestion
        saved, _ = self.write(action, self.capp.store, seg.id, sug.code_id,
                              coder=self.capp.coder, score=sug.score, sources=sug.sources,
                              **extra)
        if not saved:
            return
        if accept:
            refresh_segments(self.capp.store, [seg], self.capp.coder)
            view.segment_changed(index)
            self._bump_count(sug.code_id, 1)
        self.current_suggestions = self.current_suggestions[1:]
        if self.suggester is not None and not accept:
            # hide it now; the model learns from it in the background
            self.rejected.add((seg.id, sug.code_id))
        self.done(f"{'accepted' if accept else 'rejected'} {sug.code!r} on ¶{seg.ordinal}")

    def action_accept(self) -> None:
        self._feedback(True)

    def action_reject(self) -> None:
        self._feedback(False)

    def _jump_to_segment(self, segment_id: int | None, what: str) -> None:
        view = self.query_one(TranscriptView)
        index = next((i for i, s in enumerate(view.segments) if s.id == segment_id), None)
        if index is None:
            self.notify(f"No {what} segment left in this transcript.")
            return
        self.go(index, reading=True)  # moving on: the segment left counts as reviewed

    def action_next_suggested(self) -> None:
        if self.suggester is None:
            self.notify("Suggestions are still learning…")
            return
        view = self.query_one(TranscriptView)
        seg = view.segments[view.current] if view.segments else None
        reviewed = [s.id for s in view.segments if s.reviewed]
        self.find_segment("next_suggested", "suggested", self.transcript_id,
                          seg.ordinal if seg else 0, reviewed)

    def action_next_uncertain(self) -> None:
        if self.suggester is None:
            self.notify("Suggestions are still learning…")
            return
        view = self.query_one(TranscriptView)
        reviewed = [s.id for s in view.segments if s.reviewed]
        if view.segments:
            reviewed.append(view.segments[view.current].id)
        self.find_segment("next_uncertain", "uncertain", self.transcript_id, reviewed)

    @work(thread=True, exclusive=True, group="find", exit_on_error=False)
    def find_segment(self, call: str, what: str, *args: Any) -> None:
        """Ask the suggester where to go (s, r) in a worker; jump when it answers."""
        suggester = self.suggester
        if suggester is None:
            return
        self.app.call_from_thread(self.notify, f"Looking for the next {what} segment…",
                                  timeout=1)
        found = getattr(suggester, call)(*args)
        self.app.call_from_thread(self._jump_to_segment, found, what)

    # -- writing ---------------------------------------------------------------------------
    def write(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a core change: (saved, result). Errors become notifications, not crashes."""
        return self.capp.write(action, *args, **kwargs)

    def toggle_code(self, code_id: int) -> None:
        view = self.query_one(TranscriptView)
        if not view.segments:
            return
        if view.span is not None:
            self.span_code(code_id)
            return
        chosen = [view.segments[i] for i in view.selection()]
        store, coder = self.capp.store, self.capp.coder
        remove = all(code_id in s.mine for s in chosen)

        def change() -> None:
            with store.transaction("toggle"):
                for seg in chosen:
                    if remove:
                        remove_coding(store, seg.id, code_id, coder=coder)
                    elif code_id not in seg.mine:
                        apply_coding(store, seg.id, code_id, coder=coder)

        if not self.write(change)[0]:
            return
        code = next(c for c in self.codes if c["id"] == code_id)
        in_group = any(c["id"] == code["parent_id"] and c["exclusive"] for c in self.codes)
        if in_group:  # another choice of the group may have gone: read back from the database
            refresh_segments(store, chosen, coder)
        for index in view.selection():
            seg = view.segments[index]
            if not in_group:
                (seg.mine.discard if remove else seg.mine.add)(code_id)
            if not remove:
                seg.reviewed = True  # coded means looked at (the core marked it)
            view.segment_changed(index)
        name = code["name"]
        where = f"{len(chosen)} segments" if len(chosen) > 1 else f"¶{chosen[0].ordinal}"
        if in_group:
            self.load_codes()
        else:
            self._bump_count(code_id, -len(chosen) if remove else len(chosen))
        view.range_anchor = None
        self.done(f"{'removed' if remove else 'coded'} {where} {name!r}")

    def _bump_count(self, code_id: int, delta: int) -> None:
        for code in self.codes:
            if code["id"] == code_id:
                code["codings"] = max(0, code["codings"] + delta)
                node = self.tree_nodes.get(code_id)
                if node is not None:
                    node.set_label(self._label(code))

    # -- keys ------------------------------------------------------------------------------
    def action_toggle_code(self, code_id: int) -> None:
        self.toggle_code(code_id)

    def _leave(self, index: int) -> None:
        """Moving on from a segment marks it reviewed (when that setting is on)."""
        view = self.query_one(TranscriptView)
        if not self.capp.review_on_move or not view.segments:
            return
        seg = view.segments[index]
        if not seg.reviewed and self.write(self._mark_on_move, seg.id)[0]:
            seg.reviewed = True
            view.segment_changed(index)

    def _mark_on_move(self, segment_id: int) -> None:
        store = self.capp.store
        with store.transaction("review on move"):  # undo walks past these marks
            mark_reviewed(store, [segment_id], coder=self.capp.coder)

    def go(self, index: int, *, extend: bool = False, reading: bool = False) -> None:
        """Make segment ``index`` current. ``reading``: the coder moves on in order (j/k, n),
        which marks the segment left reviewed when that setting is on; jumps (pages,
        Home/End, clicks, search) mark nothing."""
        view = self.query_one(TranscriptView)
        if not view.segments:
            return
        index = max(0, min(index, len(view.segments) - 1))
        if extend:
            if view.range_anchor is None:
                view.range_anchor = view.current
        else:
            view.range_anchor = None
        if index != view.current and reading and not extend:
            self._leave(view.current)
        if index != view.current and view.span is not None:  # a selection stays in its segment
            view.set_span(None)
            self.show_span_details()
        view.current = index
        self.update_status()

    def action_move(self, step: int) -> None:
        self.go(self.query_one(TranscriptView).current + step, reading=True)

    def action_extend(self, step: int) -> None:
        self.go(self.query_one(TranscriptView).current + step, extend=True)

    def action_page(self, step: int) -> None:
        view = self.query_one(TranscriptView)
        self.go(view.current + step * view.page_size())

    def action_jump_to(self, index: int) -> None:
        view = self.query_one(TranscriptView)
        self.go(index if index >= 0 else len(view.segments) - 1)

    def action_next_unreviewed(self) -> None:
        view = self.query_one(TranscriptView)
        total = len(view.segments)
        for step in range(1, total + 1):
            index = (view.current + step) % total
            if not view.segments[index].reviewed and index != view.current:
                self.go(index, reading=True)
                return
        self.notify("Every segment of this transcript is reviewed.")

    def action_toggle_reviewed(self) -> None:
        view = self.query_one(TranscriptView)
        if not view.segments:
            return
        indexes = list(view.selection())
        chosen = [view.segments[i] for i in indexes]
        store, coder = self.capp.store, self.capp.coder
        unmark = all(s.reviewed for s in chosen)
        change = unmark_reviewed if unmark else mark_reviewed
        if not self.write(change, store, [s.id for s in chosen], coder=coder)[0]:
            return
        for index, seg in zip(indexes, chosen, strict=True):
            seg.reviewed = not unmark
            view.segment_changed(index)
        self.done(f"{'unmarked' if unmark else 'marked'} {len(chosen)} reviewed")

    def action_escape(self) -> None:
        view = self.query_one(TranscriptView)
        if self.query("HelpPanel"):
            self.app.action_hide_help_panel()
            return
        if view.span is not None:
            self.span_select(None)
            return
        if isinstance(self.focused, Input) or self.focused is self.query_one(Tree):
            view.focus()  # back to the transcript, which clears the filter
        elif view.range_anchor is not None:
            view.range_anchor = None
            view.refresh()
            self.update_status()
        else:
            self.capp.show_home()

    def on_descendant_focus(self, event: Any) -> None:
        """Back in the transcript, the codebook shows every code again (no stale filter)."""
        if isinstance(event.widget, TranscriptView):
            code_filter = self.query_one("#code-filter", Input)
            if code_filter.value:
                code_filter.value = ""  # Input.Changed rebuilds the tree

    def action_switch_pane(self) -> None:
        view, tree = self.query_one(TranscriptView), self.query_one(Tree)
        (tree if self.focused is view else view).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#code-filter", Input).focus()

    def action_toggle_others(self) -> None:
        view = self.query_one(TranscriptView)
        view.show_others = not view.show_others
        self.done("showing other coders' codes" if view.show_others else
                  "coding blind: other coders' codes hidden")

    # -- codebook panel --------------------------------------------------------------------
    @on(Input.Changed, "#code-filter")
    def filter_codes(self, event: Input.Changed) -> None:
        self.build_tree(event.value)
        self.show_best_match(event.value)

    def show_best_match(self, query: str) -> None:
        """Before Enter: put the tree's cursor on the best match and say what Enter does."""
        if not query.strip():
            self.show_code_details(None)
            return
        if not self.filter_matches:
            self.query_one("#code-details", Static).update(
                Text(f"No code matches “{query}”.", "dim"))
            return
        best = self.filter_matches[0]
        node = self.tree_nodes.get(best)
        if node is not None:
            self.query_one(Tree).move_cursor(node)
        self.show_code_details(best, lead=Text.assemble(
            ("Enter, Enter toggles ", "bold yellow"),
            (next(c["name"] for c in self.codes if c["id"] == best), "bold"),
            (f" ({WHY[self.filter_why[best]]}"
             + (f"; {len(self.filter_matches) - 1} more" if len(self.filter_matches) > 1
                else "") + ")\n", "dim")))

    @on(Input.Submitted, "#code-filter")
    def filter_submitted(self) -> None:
        """Enter: on to the best match in the tree (Enter there toggles it)."""
        tree = self.query_one(Tree)
        tree.focus()
        if self.filter_matches:
            node = self.tree_nodes.get(self.filter_matches[0])
            if node is not None:
                tree.move_cursor(node)

    @on(Tree.NodeHighlighted)
    def code_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.show_code_details(event.node.data)

    @on(Tree.NodeSelected)
    def code_clicked(self, event: Tree.NodeSelected) -> None:
        if event.node.data is not None:
            self.toggle_code(event.node.data)

    @on(TranscriptView.Clicked)
    def segment_clicked(self, event: TranscriptView.Clicked) -> None:
        self.go(event.index)

    @on(TranscriptView.Dragged)
    def words_dragged(self, event: TranscriptView.Dragged) -> None:
        self.go(event.index)
        self.span_select(event.selection)

    # -- dialogs ---------------------------------------------------------------------------
    def action_pick_code(self) -> None:
        choices = [Choice(("[" + self.key_of[c["id"]] + "] " if c["id"] in self.key_of else "")
                          + c["path"].replace("/", " › "), c["id"], c["definition"] or "")
                   for c in self.codes]

        def chosen(code_id: object | None) -> None:
            if isinstance(code_id, int):
                self.toggle_code(code_id)

        title = (f"Code {self.span_words()}" if self.query_one(TranscriptView).span
                 else "Toggle a code")
        self.app.push_screen(PickerModal(title, choices, "Type part of a code…"), chosen)

    def action_add_code(self) -> None:
        parents = [c["name"] for c in self.codes]
        tree = self.query_one(Tree)
        node = tree.cursor_node
        current = next((c["name"] for c in self.codes if node and c["id"] == node.data), None)

        def added(new: NewCode | None) -> None:
            if new is None:
                return
            saved, _ = self.write(add_code, self.capp.store, new.name, parent=new.parent,
                                  definition=new.definition)
            if not saved:
                return
            self.load_codes()
            self.query_one(TranscriptView).set_codes(self._styles())
            self.done(f"added code {new.name!r} (c to apply it)")

        self.app.push_screen(AddCodeModal(parents, current), added)

    def action_memo_segment(self) -> None:
        view = self.query_one(TranscriptView)
        if view.span is not None and self.span_memo():
            return
        if view.segments:
            index = view.current
            seg = view.segments[index]

            def saved(message: str) -> None:
                seg.memo = message != "memo deleted"
                view.segment_changed(index)
                self.done(message)

            # The dialog goes to the half of the screen the segment is not in.
            top = view.region.y + view.segment_top(index)
            place = "bottom" if top < self.app.size.height // 2 else "top"
            self.capp.edit_memo("segment", seg.id,
                                f"Memo on {self.transcript['name']} ¶{seg.ordinal}",
                                on_saved=saved, place=place)

    def action_memo_transcript(self) -> None:
        self.capp.edit_memo("transcript", self.transcript_id,
                            f"Memo on transcript {self.transcript['name']}", on_saved=self.done)

    def action_search(self) -> None:
        self.capp.action_search()

    def action_undo(self) -> None:
        self._history("undo")

    def action_redo(self) -> None:
        self._history("redo")

    def _history(self, which: str) -> None:
        from coder.store import history

        saved, result = self.write(getattr(history, which), self.capp.store, self.capp.coder)
        if not saved:
            return
        if result is None:
            self.done(f"nothing to {which}")
            return
        self.reload_after_change()
        view = self.query_one(TranscriptView)
        touched = [i for i, s in enumerate(view.segments) if s.id in set(result.segment_ids)]
        if touched:
            view.range_anchor = None
            if touched[0] != view.current:
                view.set_span(None)
            view.current = touched[0]
            self.show_span_details()
        elif result.segment_ids:  # the change was in another transcript: say where
            from coder.store.workbench import transcript_name, transcript_of_segment

            where = transcript_of_segment(self.capp.store, result.segment_ids[0])
            if where is not None:
                name = transcript_name(self.capp.store, where[0])
                self.capp.elsewhere = (where[0], where[1], f"{name} ¶{where[1]}")
                self.notify(f"{result.message}: that was in {name} ¶{where[1]}; ctrl+p "
                            f"\"Go to {name} ¶{where[1]}\" opens it.", timeout=10)
        self.done(result.message)

    def reload_after_change(self) -> None:
        """Re-read codes and this transcript's codings (after undo, a sync, a new coder)."""
        if self.suggester is not None and self.suggester.coder != self.capp.coder:
            self.restart_suggester()
        view = self.query_one(TranscriptView)
        view.coder = self.capp.coder
        self.load_codes()
        refresh_segments(self.capp.store, view.segments, self.capp.coder)
        view.set_codes(self._styles())
        self.update_status()
        if self.suggester is not None and self.suggester.coder != self.capp.coder:
            # Blind coding stays blind: another coder's model must not suggest here.
            self.suggester = None
            self.current_suggestions = []
            self.query_one("#suggestions", Static).update(
                Text(f"Suggestions: learning from {self.capp.coder}'s work…", "dim"))
            self.load_suggester()

    def database_changed(self) -> None:
        """Another process wrote: show its codes (ctrl+o), counts and marks without reopening.
        The event log says which segments changed: only those are re-read and repainted;
        the codebook is rebuilt only if it changed, the transcript reloaded only if replaced."""
        store, coder = self.capp.store, self.capp.coder
        view = self.query_one(TranscriptView)
        changes = changes_since(store, self.last_event)
        self.last_event = changes.last
        if changes.segments is None and \
                segment_ids(store, self.transcript_id) != [s.id for s in view.segments]:
            ordinal = view.segments[view.current].ordinal if view.segments else None
            segments = load_segments(store, self.transcript_id, coder)  # replaced by a sync
            self.load_codes()
            view.load(segments, self._styles(), next(
                (i for i, s in enumerate(segments) if s.ordinal == ordinal), 0))
            self.update_status()
            return
        if changes.segments is None or coder in changes.coders:  # else my counts stand
            codes = list_codes(store, coder)
            if [_shape(c) for c in codes] != [_shape(c) for c in self.codes]:
                self.reload_after_change()
                return
            for code, fresh in zip(self.codes, codes, strict=True):
                if code["codings"] != fresh["codings"]:
                    self._bump_count(code["id"], fresh["codings"] - code["codings"])
        touched = [(i, s) for i, s in enumerate(view.segments)
                   if changes.segments is None or s.id in changes.segments]
        if not touched:
            return
        others = view.show_others  # coding blind, others' codes change nothing on screen
        before = [(set(s.mine), s.reviewed, s.memo,
                   {k: list(v) for k, v in s.others.items()} if others else None)
                  for _, s in touched]
        reviewed = view.reviewed_count
        refresh_segments(store, [s for _, s in touched], coder)
        for (index, seg), old in zip(touched, before, strict=True):
            if (seg.mine, seg.reviewed, seg.memo, seg.others if others else None) != old:
                view.segment_changed(index)
        if view.reviewed_count != reviewed:
            self.update_status()

    def action_memo_code(self) -> None:
        node = self.query_one(Tree).cursor_node
        code = next((c for c in self.codes if node and c["id"] == node.data), None)
        if code is None:
            self.notify("Highlight a code in the codebook first.")
            return
        self.capp.edit_memo("code", code["id"], f"Memo on code {code['name']}",
                            on_saved=self.done)
