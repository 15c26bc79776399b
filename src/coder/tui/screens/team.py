"""Team screens: agreement between coders, and reconciling their disagreements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coder.agreement import DEFAULT_THRESHOLD
from coder.errors import CoderError
from coder.store.codes import code_names
from coder.tui.code_filter import fit_name
from coder.tui.screens.base import CoderScreen, move_cursor_to, row_key_at_cursor
from coder.tui.screens.modals import Choice, PickerModal, PromptModal

if TYPE_CHECKING:
    from coder.reconcile import Disagreement


_CODER_COLORS = ("cyan", "magenta", "yellow", "green", "blue", "red")


def coder_color(number: int) -> str:
    """The colour of the ``number``-th compared coder (1-based)."""
    return _CODER_COLORS[(number - 1) % len(_CODER_COLORS)]


def span_text(item: Any) -> Text:
    """A disagreement's text with every coder's spans underlined in that coder's colour."""
    text = Text(item.text)
    for number, work_ in enumerate(item.coders.values(), start=1):
        for _, a, b in work_.spans:
            text.stylize(f"underline {coder_color(number)}", a, b)
    return text


def _num(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}%" if percent else f"{value:.3f}"


TEAM_CODERS = "team.coders"  # the preference: which coders the team screens compare


def chosen_coders(capp: Any) -> list[str] | None:
    """The coders this user last chose to compare (None: everyone who reviewed)."""
    from coder.store.agreement import coders_with_work
    from coder.store.preferences import get_preference

    chosen = get_preference(capp.store, capp.coder, TEAM_CODERS)
    if not isinstance(chosen, list):
        return None
    present = set(coders_with_work(capp.store))
    chosen = [c for c in chosen if isinstance(c, str) and c in present]
    return chosen if len(chosen) >= 2 else None


def choose_coders(screen: CoderScreen, current: list[str] | None,
                  then: Any) -> None:
    """Ask which coders to compare (comma-separated; empty: all), remember, call ``then``."""
    from coder.store.agreement import coders_with_work
    from coder.store.preferences import set_preference

    capp = screen.capp
    available = coders_with_work(capp.store)

    def chosen(value: str | None) -> None:
        if value is None:
            return  # Esc: nothing changes
        names = [c.strip() for c in value.split(",") if c.strip()]
        unknown = [n for n in names if n not in available]
        if unknown:
            screen.notify(f"No reviewed segments by {', '.join(unknown)}; coders with work: "
                          f"{', '.join(available) or 'none'}.", severity="error")
            return
        if len(names) == 1:
            screen.notify("Choose at least two coders (or none for everyone).",
                          severity="error")
            return
        capp.write(set_preference, capp.store, capp.coder, TEAM_CODERS, names)
        then(names or None)

    capp.push_screen(PromptModal(
        f"Coders to compare, comma-separated, empty for everyone "
        f"(with reviewed segments: {', '.join(available) or 'none'})",
        ",".join(current or [])), chosen)


class AgreementScreen(CoderScreen):
    """Agreement per code between the chosen coders (else everyone who reviewed segments);
    c chooses the coders, d reconciles a code."""

    BINDINGS = [
        Binding("d", "reconcile", "Reconcile this code", id="agreement.reconcile"),
        Binding("D", "reconcile_all", "Reconcile all", id="agreement.reconcile_all"),
        Binding("c", "choose_coders", "Choose coders", id="agreement.coders"),
        Binding("escape", "back", "Back", id="agreement.back"),
        Binding("j", "cursor(1)", "Down", show=False, id="agreement.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="agreement.up"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Computing agreement… (working)", id="agreement-summary")
        yield DataTable(id="agreement-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="agreement-definition")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "agreement"
        self.report: dict[str, Any] | None = None
        self.coders = chosen_coders(self.capp)
        self.compute()

    def recompute(self) -> None:
        who = ", ".join(self.coders) if self.coders else "everyone who reviewed"
        self.query_one("#agreement-summary", Static).update(
            Text(f" Computing agreement between {who}… (working)", "italic"))
        self.compute()

    @work(thread=True, exclusive=True, group="agreement", exit_on_error=False)
    def compute(self) -> None:
        """In a worker: the screen answers keys meanwhile; an error is shown, not raised."""
        from coder.agreement import compute_agreement
        from coder.store.db import Store

        try:
            with Store(self.capp.study.db_path, coder=self.capp.coder) as store:
                report = compute_agreement(store, self.coders)
        except CoderError as exc:
            self.app.call_from_thread(self.failed, str(exc))
            return
        self.app.call_from_thread(self.show, report)

    def failed(self, message: str) -> None:
        self.report = None
        self.query_one(DataTable).clear(columns=True)
        self.query_one("#agreement-summary", Static).update(Text.assemble(
            (" No agreement to show: ", "bold"), message,
            ("   c chooses the coders · Esc goes back", "dim")))
        self.notify(message, severity="warning")

    def action_choose_coders(self) -> None:
        def then(coders: list[str] | None) -> None:
            self.coders = coders
            self.recompute()

        choose_coders(self, self.coders, then)

    def show(self, report: dict[str, Any]) -> None:
        self.report = report
        overall = report.get("overall") or {}
        coders = ", ".join(report["coders"])
        self.query_one("#agreement-summary", Static).update(Text.assemble(
            (" Coders: ", "bold"), coders, f" · {report['units']} segments with two or more "
            "coders' values · overall α ", (_num(overall.get("krippendorff_alpha")), "bold"),
            " · ▲ below ", f"{report.get('threshold', DEFAULT_THRESHOLD):.3f}",
            ("   c coders · d reconciles the highlighted code, D all", "dim")))
        table = self.query_one(DataTable)
        highlighted = self._highlighted_code()
        table.clear(columns=True)
        # The numbers always fit: the code column takes what is left of the width.
        fixed = [("", 1), ("units", 6), ("agree", 6), ("Cohen κ", 7), ("Fleiss κ", 8),
                 ("α", 6)]
        spare = self.size.width - sum(w + 2 for _, w in fixed) - 4
        names = [c["code"] for c in report["codes"]] or ["code"]
        width = max(10, min(spare, max(len(n) for n in names)))
        table.add_column("", width=1)
        table.add_column("code", width=width)
        for label, w in fixed[1:]:
            table.add_column(label, width=w)
        for code in report["codes"]:
            flag = "▲" if code.get("below_threshold") else ""
            table.add_row(flag, fit_name(code["code"], width), str(code["units"]),
                          _num(code["percent_agreement"], True), _num(code["cohen_kappa"]),
                          _num(code["fleiss_kappa"]), _num(code["krippendorff_alpha"]),
                          key=code["code"])
        move_cursor_to(table, highlighted)
        table.focus()

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.report or event.row_key is None:
            return
        code = next((c for c in self.report["codes"] if c["code"] == event.row_key.value), None)
        if code is None:
            return
        notes = "\n".join(
            f"{k.replace('_', ' ')}: "
            + ("; ".join(f"{pair.replace('|', ' & ')}: {why}" for pair, why in v.items())
               if isinstance(v, dict) else str(v))
            for k, v in (code.get("notes") or {}).items())
        self.query_one("#agreement-definition", Static).update(Text.assemble(
            (code["code"], "bold"), "\n", code.get("definition") or "(no definition)",
            ("\n" + notes if notes else "", "dim")))

    def database_changed(self) -> None:
        if self.is_current:
            self.compute()  # in a worker; the highlighted code stays highlighted
        else:
            self.stale = True  # under the reconcile screen: recompute when shown again

    def on_screen_resume(self) -> None:
        if getattr(self, "stale", False):
            self.stale = False
            self.compute()

    def _highlighted_code(self) -> str | None:
        return row_key_at_cursor(self.query_one(DataTable))

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def action_reconcile(self) -> None:
        self.app.push_screen(ReconcileScreen(code=self._highlighted_code(), coders=self.coders))

    def action_reconcile_all(self) -> None:
        self.app.push_screen(ReconcileScreen(coders=self.coders))


class ReconcileScreen(CoderScreen):
    """Walk through disagreements and decide the consensus codes, one key per choice."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "Next", id="reconcile.next"),
        Binding("k,up", "move(-1)", "Previous", id="reconcile.previous"),
        Binding("b", "take('both')", "Both / all", id="reconcile.both"),
        Binding("0", "take('none')", "Only agreed", id="reconcile.none"),
        Binding("e", "edit", "Edit", id="reconcile.edit"),
        Binding("enter", "decide_edited", "Decide edited", show=False, id="reconcile.decide"),
        Binding("n", "note", "Note", id="reconcile.note"),
        Binding("u", "undo", "Undo", id="reconcile.undo"),
        Binding("c", "filter('code')", "Filter: code", id="reconcile.filter_code"),
        Binding("t", "filter('transcript')", "Filter: transcript",
                id="reconcile.filter_transcript"),
        Binding("p", "filter('coders')", "Filter: coders", id="reconcile.filter_coders"),
        Binding("escape", "back", "Back", id="reconcile.back"),
        *(Binding(str(i), f"take_coder({i - 1})", f"Take coder {i}", show=False,
                  id=f"reconcile.take_{i}") for i in range(1, 10)),
    ]

    def __init__(self, code: str | None = None, coders: list[str] | None = None,
                 transcript: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.coders = coders
        self.transcript = transcript
        self.items: list[Disagreement] = []
        self.index = 0
        self.note = ""
        self.edited: set[int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="reconcile-progress")
        with Horizontal(id="reconcile"):
            yield OptionList(id="reconcile-list")
            with VerticalScroll(id="reconcile-detail"):
                yield Static(id="reconcile-segment")
        yield Footer()

    def on_mount(self) -> None:
        if self.coders is None:  # the coders this user chose last time, on either screen
            self.coders = chosen_coders(self.capp)
        self.load()
        self.query_one(OptionList).focus()

    def load(self) -> None:
        from coder.reconcile import list_disagreements

        filters = [f for f in (self.code, self.transcript,
                               " vs ".join(self.coders) if self.coders else None) if f]
        self.sub_title = "reconcile" + (f" · {' · '.join(filters)}" if filters else "")
        try:
            self.items = list_disagreements(self.capp.store, self.coders, self.code,
                                            self.transcript)
        except CoderError as exc:
            self.notify(str(exc), severity="error")
            self.items = []
        self.code_names = code_names(self.capp.store)
        self.scope = self._scope()
        self.fill_list()
        first = next((i for i, item in enumerate(self.items) if not item.decided), 0)
        self.select(first)

    def database_changed(self) -> None:
        """Others coded or decided: re-list the disagreements, staying on the same segment
        (not while a decision is being edited: that waits for the next change)."""
        if self.edited is not None:
            return
        here = (self.items[self.index].transcript, self.items[self.index].ordinal) \
            if self.items else None
        self.load()
        index = next((i for i, item in enumerate(self.items)
                      if (item.transcript, item.ordinal) == here), None)
        if index is not None:
            self.select(index)

    def action_filter(self, which: str) -> None:
        """Narrow the disagreements to a code, a transcript or some coders (empty: all)."""
        if which == "coders":  # the same choice as the agreement screen's, remembered
            def then(coders: list[str] | None) -> None:
                self.coders = coders
                self.load()

            choose_coders(self, self.coders, then)
            return
        current = {"code": self.code, "transcript": self.transcript,
                   "coders": ",".join(self.coders or [])}[which]
        title = {"code": "Only disagreements on this code (and its children)",
                 "transcript": "Only this transcript",
                 "coders": "Only these coders, comma-separated (e.g. ana,bo)"}[which]

        def chosen(value: str | None) -> None:
            value = (value or "").strip() or None
            if which == "code":
                self.code = value
            elif which == "transcript":
                self.transcript = value
            else:
                self.coders = [c.strip() for c in value.split(",") if c.strip()] if value else None
            self.load()

        self.app.push_screen(PromptModal(title + " (empty for all)", current or ""), chosen)

    def _scope(self) -> set[int] | None:
        """None: a decision settles the whole segment, whatever the list is filtered by (the
        screen shows every coder's codes, and a decided segment is decided as a whole)."""
        return None

    def fill_list(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for item in self.items:
            disputed = ", ".join(self.code_names.get(c, "?") for c in item.disputed)
            options.add_option(Option(Text.assemble(
                ("✓ " if item.decided else "  ", "green"),
                f"{item.transcript} ¶{item.ordinal}  ", (disputed, "dim"))))
        if not self.items:
            options.add_option(Option(Text("No disagreements: the coders agree on every "
                                           "segment they both reviewed.", "dim italic"),
                                      disabled=True))
        self.update_progress()

    def update_progress(self) -> None:
        decided = sum(item.decided for item in self.items)
        coders = sorted({c for item in self.items for c in item.coders}) or (self.coders or [])
        coders = coders or ["(everyone who reviewed)"]
        note = f" · note for the next decision: “{self.note}”" if self.note else ""
        self.query_one("#reconcile-progress", Static).update(Text.assemble(
            (" Decided ", "bold"), f"{decided} of {len(self.items)} disagreements",
            f" · coders: {', '.join(coders)} · consensus is coder "
            f"'{self.capp.consensus}'{note}"))

    def select(self, index: int) -> None:
        if not self.items:
            self.query_one("#reconcile-segment", Static).update("")
            return
        self.index = max(0, min(index, len(self.items) - 1))
        self.edited = None
        self.query_one(OptionList).highlighted = self.index
        self.show_item()

    def show_item(self) -> None:
        item = self.items[self.index]
        names = self.code_names
        parts: list[Any] = [(f"{item.transcript} ¶{item.ordinal}", "bold"),
                            f"  {item.speaker or ''}\n\n", span_text(item), "\n\n"]
        for number, (coder, work_) in enumerate(item.coders.items(), start=1):
            codes = ", ".join(names.get(c, "?") for c in work_.codes) or "(no codes)"
            state = "" if work_.reviewed else " (not reviewed: does not count)"
            parts += [(f"[{number}] {coder}{state}: ", f"bold {coder_color(number)}"), codes,
                      "\n"]
            for code_id, a, b in work_.spans:  # the words each coder coded, side by side
                parts += [(f"     › {names.get(code_id, '?')}: ", "dim"),
                          (f"“{item.text[a:b]}”", f"underline {coder_color(number)}"),
                          (f" ({a}-{b})", "dim"), "\n"]
            if work_.memo:
                parts += [("     memo: ", "dim"), (work_.memo, "italic"), "\n"]
        parts += ["\n", ("Agreed: ", "bold green"),
                  ", ".join(names.get(c, "?") for c in item.agreed) or "(none)", "\n",
                  ("Disputed: ", "bold red"),
                  ", ".join(names.get(c, "?") for c in item.disputed), "\n"]
        if item.decided:
            parts += [("Consensus: ", "bold"),
                      ", ".join(names.get(c, "?") for c in item.consensus) or "(no codes)"]
            if item.decision:
                who = item.decision.get("adjudicator", "")
                note = item.decision.get("note") or ""
                parts += [(f"  (decided by {who}" + (f": {note}" if note else "") + ")", "dim")]
            parts.append("\n")
        if self.edited is not None:
            parts += [("Edited proposal (enter decides): ", "bold yellow"),
                      ", ".join(names.get(c, "?") for c in sorted(self.edited)) or "(no codes)",
                      "\n"]
        parts += [("\n1-9 take that coder's codes · b both · 0 only agreed · e edit · "
                   "n note · u undo · c/t/p filter by code, transcript, coders", "dim")]
        self.query_one("#reconcile-segment", Static).update(Text.assemble(*parts))

    @on(OptionList.OptionHighlighted, "#reconcile-list")
    def list_moved(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index and event.option_index < len(self.items):
            self.index = event.option_index
            self.edited = None
            self.show_item()

    @on(OptionList.OptionSelected, "#reconcile-list")
    def list_enter(self) -> None:
        self.action_decide_edited()

    def action_move(self, step: int) -> None:
        self.select(self.index + step)

    # -- deciding ----------------------------------------------------------------------------
    def action_take_coder(self, number: int) -> None:
        if self.items and number < len(self.items[self.index].coders):
            self.decide_by(list(self.items[self.index].coders)[number])

    def action_take(self, which: str) -> None:
        if self.items:
            self.decide_by(which)

    def decide_by(self, take: str) -> None:
        from coder.reconcile import proposal

        item = self.items[self.index]
        self.decide(proposal(item, take, self.scope), f"took {take}",
                    spans_from=take if take in item.coders else None)

    def decide(self, codes: set[int], how: str, spans_from: str | None = None) -> None:
        from coder.reconcile import decide, load_segment

        item = self.items[self.index]
        saved, _ = self.capp.write(decide, self.capp.store, item.segment_id, codes,
                                   adjudicator=self.capp.coder, note=self.note,
                                   consensus=self.capp.consensus,
                                   coders=list(item.coders), spans_from=spans_from)
        if not saved:
            return
        self.items[self.index] = load_segment(self.capp.store, item.segment_id,
                                              list(item.coders),
                                              consensus=self.capp.consensus)
        self.note = ""
        self.fill_list()
        self.notify(f"{item.transcript} ¶{item.ordinal}: {how}")
        following = next((i for i in range(self.index + 1, len(self.items))
                          if not self.items[i].decided), None)
        self.select(following if following is not None else self.index)

    def action_edit(self) -> None:
        if not self.items:
            return
        item = self.items[self.index]
        if self.edited is None:
            self.edited = set(item.consensus if item.decided else item.agreed)
        choices = [Choice(("✓ " if cid in self.edited else "  ") + name, cid)
                   for cid, name in self.code_names.items()]

        def toggled(code_id: object | None) -> None:
            if not isinstance(code_id, int) or self.edited is None:
                return
            self.edited ^= {code_id}
            self.show_item()

        self.app.push_screen(PickerModal("Toggle a code in the consensus proposal", choices,
                                         "Type part of a code…"), toggled)

    def action_decide_edited(self) -> None:
        if self.items and self.edited is not None:
            self.decide(set(self.edited), "decided the edited codes")

    def action_note(self) -> None:
        def noted(text: str | None) -> None:
            self.note = text or ""
            self.update_progress()

        self.app.push_screen(PromptModal("Note for the next decision (why)", self.note), noted)

    def action_undo(self) -> None:
        from coder.reconcile import load_segment
        from coder.store import history

        saved, result = self.capp.write(history.undo, self.capp.store, self.capp.coder)
        if not saved:
            return
        if result is None:
            self.notify("Nothing to undo.")
            return
        for i, item in enumerate(self.items):
            if item.segment_id in set(result.segment_ids):
                self.items[i] = load_segment(self.capp.store, item.segment_id,
                                             list(item.coders), consensus=self.capp.consensus)
        self.fill_list()
        self.show_item()
        self.notify(result.message)
