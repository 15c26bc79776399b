"""Before the workbench imports new files: the same preview as `coder import --preview`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ImportPreviewModal(ModalScreen[bool]):
    """Show what an import would store; enter imports, escape cancels."""

    DEFAULT_CSS = """
    ImportPreviewModal { align: center middle; }
    ImportPreviewModal > Vertical { width: 90%; height: 85%; border: round $accent;
                                    background: $surface; padding: 0 1; }
    ImportPreviewModal VerticalScroll { height: 1fr; }
    ImportPreviewModal .buttons { height: auto; }
    """
    BINDINGS = [
        Binding("enter", "confirm", "Import", id="import_preview.confirm"),
        Binding("escape", "cancel", "Cancel", id="import_preview.cancel"),
    ]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll():
                yield Static("\n".join(self.lines), markup=False, id="import-preview")
            with Horizontal(classes="buttons"):
                yield Button("Import (enter)", variant="primary", id="confirm")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_confirm() if event.button.id == "confirm" else self.action_cancel()
