"""Small dialogs: memo editor, code picker, search, new code, and a one-line prompt."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, TextArea
from textual.widgets.option_list import Option


class MemoModal(ModalScreen[str | None]):
    """Edit a memo; ctrl+s saves (empty text deletes), escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save memo", id="memo.save"),
        Binding("escape", "cancel", "Cancel", id="memo.cancel"),
    ]

    def __init__(self, title: str, text: str, place: str = "middle") -> None:
        """``place``: "top" or "bottom" keeps the dialog off what the memo is about."""
        super().__init__(classes=place)
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield TextArea(self.text, id="memo-text", soft_wrap=True)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()


@dataclass(frozen=True)
class Choice:
    """An item a fuzzy picker offers."""

    label: str
    value: object
    detail: str = ""


class PickerModal(ModalScreen[object | None]):
    """Type to filter (fuzzy), arrows to move, enter to choose, escape to cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "cursor(1)", "Down", show=False, id="picker.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="picker.up"),
    ]

    def __init__(self, title: str, choices: list[Choice], placeholder: str = "Filter…",
                 search=None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.placeholder = placeholder
        self.search = search  # optional callable(query) -> list[Choice], e.g. full-text search

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="picker-input")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._show("")
        self.query_one(Input).focus()

    def _show(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if self.search is not None:
            self._current = self.search(query) if query.strip() else []
        else:
            matcher = Matcher(query) if query else None
            scored = []
            for choice in self.choices:
                if matcher is None:
                    scored.append((0.0, choice))
                    continue
                score = max(matcher.match(choice.label), 0.8 * matcher.match(choice.detail))
                if score > 0:
                    scored.append((score, choice))
            if matcher is not None:
                scored.sort(key=lambda pair: -pair[0])
            self._current = [choice for _, choice in scored]
        options.add_options([Option(Text.assemble(c.label, (f"  {c.detail}", "dim")))
                             for c in self._current[:200]])
        if self._current and query.strip():  # an empty query chooses nothing by accident
            options.highlighted = 0
        elif query.strip():
            options.add_option(Option(Text("No matches.", "dim italic"), disabled=True))
        elif self.search is not None:
            options.add_option(Option(Text("Type words to search every transcript.",
                                           "dim italic"), disabled=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def on_input_submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.highlighted < len(self._current):
            self.dismiss(self._current[options.highlighted].value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self._current):
            self.dismiss(self._current[event.option_index].value)

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        count = min(options.option_count, len(self._current))
        if count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(current + step, count - 1))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptModal(ModalScreen[str | None]):
    """Ask for one line of text."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="small"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.value, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())  # "" (empty) differs from None (Esc)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class NewCode:
    name: str
    parent: str | None
    definition: str


class AddCodeModal(ModalScreen[NewCode | None]):
    """Name, parent and definition of a new code."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="addcode.cancel"),
                Binding("ctrl+s", "save", "Add code", id="addcode.save")]

    def __init__(self, parents: list[str], parent: str | None = None) -> None:
        super().__init__()
        self.parents = parents
        self.default_parent = parent

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("New code", classes="dialog-title")
            yield Input(placeholder="Name", id="code-name")
            chosen = self.default_parent if self.default_parent in self.parents else Select.NULL
            yield Select([(p, p) for p in self.parents], prompt="Top level (no parent)",
                         value=chosen, id="code-parent")
            yield Input(placeholder="Definition (what the code means)", id="code-definition")
            with Horizontal(classes="buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#code-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "code-name":
            self.query_one("#code-parent").focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        name = self.query_one("#code-name", Input).value.strip()
        if not name:
            self.notify("A code needs a name.", severity="warning")
            return
        parent = self.query_one("#code-parent", Select).value
        self.dismiss(NewCode(name, None if parent is Select.NULL else str(parent),
                             self.query_one("#code-definition", Input).value.strip()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)
