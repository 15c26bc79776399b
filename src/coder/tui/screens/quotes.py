"""The quote bank in the workbench: pick a code, preview its quotes, pin or exclude, export."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coder.tui.screens.base import CoderScreen


class QuotesScreen(CoderScreen):
    """Each code's quotes as the quote bank would choose them; ★ pinned, ✗ excluded."""

    BINDINGS = [
        Binding("p", "choose('pin')", "Pin / unpin", id="quotes.pin"),
        Binding("x", "choose('exclude')", "Exclude / include", id="quotes.exclude"),
        Binding("e", "export('md')", "Export Markdown", id="quotes.export_md"),
        Binding("w", "export('docx')", "Export Word", id="quotes.export_docx"),
        Binding("tab", "switch", "Codes ⇄ quotes", show=False, id="quotes.switch"),
        Binding("u", "undo", "Undo", id="quotes.undo"),
        Binding("escape", "back", "Back", id="quotes.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="quotes-summary")
        with Horizontal(id="quotes"):
            yield OptionList(id="quotes-codes")
            with Vertical(id="quotes-right"):
                yield OptionList(id="quotes-list")
                yield Static(id="quotes-preview")
        yield Footer()

    def on_mount(self) -> None:
        from coder.quotes import default_coder

        self.coder = default_coder(self.capp.store, self.capp.coder)
        self.sub_title = f"quote bank · coder {self.coder}"
        from coder.store.quote_choices import coded_codes

        self.codes = coded_codes(self.capp.store, self.coder)
        codes = self.query_one("#quotes-codes", OptionList)
        for code in self.codes:
            codes.add_option(Option(Text.assemble(code["name"], (f"  {code['n']}", "dim"))))
        if not self.codes:
            codes.add_option(Option(Text(f"{self.coder} has no codings yet.", "dim italic"),
                                    disabled=True))
        self.query_one("#quotes-summary", Static).update(Text.assemble(
            (" Quote bank ", "bold"), f"from the codings of {self.coder} · ● chosen · ★ pinned"
            " · ✗ excluded · p pin · x exclude · e / w export Markdown / Word to exports/"))
        self.code_index = 0
        if self.codes:
            codes.highlighted = 0
            self.show_code()
        codes.focus()

    @on(OptionList.OptionHighlighted, "#quotes-codes")
    def code_moved(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index < len(self.codes) and event.option_index != self.code_index:
            self.code_index = event.option_index
            self.show_code()

    @on(OptionList.OptionHighlighted, "#quotes-list")
    def quote_moved(self, event: OptionList.OptionHighlighted) -> None:
        self.show_preview(event.option_index)

    def show_code(self, keep: int | None = None) -> None:
        """Choose the highlighted code's quotes in a worker (the quote bank ranks every
        coded segment: seconds on a large study); the list says so meanwhile."""
        code = self.codes[self.code_index]
        self.rows: list[Any] = []
        listing = self.query_one("#quotes-list", OptionList)
        listing.clear_options()
        listing.add_option(Option(Text(f"Choosing quotes for {code['name']}… (working)",
                                       "dim italic"), disabled=True))
        self.query_one("#quotes-preview", Static).update("")
        self.choose_quotes(code, keep)

    @work(thread=True, exclusive=True, group="quotes", exit_on_error=False)
    def choose_quotes(self, code: dict[str, Any], keep: int | None) -> None:
        from textual.worker import get_current_worker

        from coder.quotes import Options, build_bank
        from coder.store.db import Store
        from coder.store.quote_choices import coded_segment_ids, quote_choices

        study = self.capp.study
        with Store(study.db_path, coder=self.capp.coder) as store:
            name, model = study.settings.name, study.settings.nlp_model
            chosen = build_bank(store, study=name, coder=self.coder, codes=[code["name"]],
                                nlp_model=model).codes[0].quotes
            if get_current_worker().is_cancelled:
                return
            listed = build_bank(store, study=name, coder=self.coder, codes=[code["name"]],
                                options=Options(all=True), nlp_model=model).codes[0]
            ids = coded_segment_ids(store, self.coder, code["id"])
            choices = quote_choices(store)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_quotes, code, keep, chosen, listed.quotes,
                                      ids, choices)

    def show_quotes(self, code: dict[str, Any], keep: int | None, chosen: list[Any],
                    candidates: list[Any], ids: dict[tuple[str, int], int],
                    choices: dict[tuple[int, int], str]) -> None:
        if self.codes[self.code_index]["id"] != code["id"]:
            return  # the coder moved on to another code meanwhile
        self.chosen = {(q.transcript, q.segment) for q in chosen}
        self.candidates = list(candidates)
        self.chosen_quotes = {(q.transcript, q.segment): q for q in chosen}
        self.segment_ids = ids
        excluded = [key for key, seg in ids.items()
                    if choices.get((code["id"], seg)) == "exclude"]
        self.choice = {key: choices.get((code["id"], seg)) for key, seg in ids.items()}
        listing = self.query_one("#quotes-list", OptionList)
        listing.clear_options()
        for quote in self.candidates + [_Excluded(*key) for key in excluded]:
            key = (quote.transcript, quote.segment)
            mark = {"pin": "★", "exclude": "✗"}.get(self.choice.get(key) or "",
                                                     "●" if key in self.chosen else " ")
            listing.add_option(Option(Text.assemble(
                (f"{mark} ", "bold yellow"), (f"{quote.transcript} ¶{quote.segment}  ", "bold"),
                (_short(quote.text), "dim" if mark == "✗" else ""))))
        self.rows = self.candidates + [_Excluded(*key) for key in excluded]
        if self.rows:
            listing.highlighted = min(keep or 0, len(self.rows) - 1)
            self.show_preview(listing.highlighted)

    def show_preview(self, index: int | None) -> None:
        if index is None or index >= len(self.rows):
            return
        quote = self.rows[index]
        key = (quote.transcript, quote.segment)
        shown = self.chosen_quotes.get(key, quote)
        if isinstance(shown, _Excluded):
            self.query_one("#quotes-preview", Static).update(Text(
                f"{shown.transcript} ¶{shown.segment} is excluded from this code's quotes "
                "(x takes it back).", "dim italic"))
            return
        self.query_one("#quotes-preview", Static).update(Text.assemble(
            (f"“{shown.text}”", "italic"), "\n— ", (getattr(shown, "citation", ""), "bold")))

    def action_choose(self, which: str) -> None:
        from coder.store.quote_choices import set_quote_choice

        listing = self.query_one("#quotes-list", OptionList)
        index = listing.highlighted
        if index is None or not self.codes or index >= len(self.rows):
            if self.codes and not self.rows:
                self.notify("Still choosing this code's quotes…")
            return
        quote = self.rows[index]
        key = (quote.transcript, quote.segment)
        new = None if self.choice.get(key) == which else which
        saved, _ = self.capp.write(set_quote_choice, self.capp.store,
                                   self.codes[self.code_index]["id"], self.segment_ids[key],
                                   new, coder=self.capp.coder)
        if saved:
            self.show_code(keep=index)

    def action_export(self, fmt: str) -> None:
        self.notify(f"Writing the quote bank ({fmt})… (working)", timeout=2)
        self.export_bank(fmt)

    @work(thread=True, exclusive=True, group="quotes-export", exit_on_error=False)
    def export_bank(self, fmt: str) -> None:
        """Build and write the whole bank in a worker; errors become notifications."""
        from coder.errors import CoderError
        from coder.exporters import write_bank
        from coder.quotes import build_bank
        from coder.store.db import Store

        study = self.capp.study
        path = study.exports_dir / f"quotes-{self.coder}.{fmt}"
        try:
            with Store(study.db_path, coder=self.capp.coder) as store:
                bank = build_bank(store, study=study.settings.name, coder=self.coder,
                                  nlp_model=study.settings.nlp_model)
            write_bank(bank, fmt, path)
        except (CoderError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.notify, f"Wrote {path.relative_to(study.root)}")

    def action_undo(self) -> None:
        from coder.store import history

        saved, result = self.capp.write(history.undo, self.capp.store, self.capp.coder)
        if saved and result is not None:
            self.notify(result.message)
            if self.codes:
                self.show_code(keep=self.query_one("#quotes-list", OptionList).highlighted)

    def action_switch(self) -> None:
        codes = self.query_one("#quotes-codes", OptionList)
        listing = self.query_one("#quotes-list", OptionList)
        (listing if self.focused is codes else codes).focus()


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"


class _Excluded:
    """An excluded segment, listed so it can be taken back in."""

    def __init__(self, transcript: str, segment: int) -> None:
        self.transcript, self.segment = transcript, segment
        self.text, self.citation = "(excluded from the quote bank)", ""
