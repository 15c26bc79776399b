"""Waiting for the database: another process holds the write lock, so a change waits."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from coder.errors import CoderError
from coder.store.db import Store, is_busy

# How often the change is tried again, and how long each try may block the screen.
RETRY_S = 0.25
TRY_S = 0.05


class WaitingModal(ModalScreen[bool]):
    """Says that the workbench waits for the database and saves the change once it is free.

    Keys wait too (they would act on a screen that does not show the change yet); escape
    gives up on the change. Dismissed with True once saved.
    """

    BINDINGS = [Binding("escape", "give_up", "Give up this change", id="waiting.give_up")]

    def __init__(self, store: Store, attempt: Callable[[], Any]) -> None:
        super().__init__()
        self.store = store
        self.attempt = attempt
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="small"):
            yield Label("Waiting for the database", classes="dialog-title")
            yield Static(id="waiting-text")

    def on_mount(self) -> None:
        self.show_wait()
        self.timer = self.set_interval(RETRY_S, self.retry)

    def show_wait(self) -> None:
        seconds = time.monotonic() - self.started
        self.query_one("#waiting-text", Static).update(
            f"Another coder or command is writing to the study ({seconds:.0f} s so far). "
            "Your change is saved as soon as the database is free; esc gives it up.")

    def retry(self) -> None:
        patience, self.store.patience = self.store.patience, TRY_S
        try:
            self.attempt()
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                self.show_wait()
                return
            self.finish(False, f"Not saved: {exc}")
        except CoderError as exc:
            self.finish(False, str(exc))
        else:
            self.finish(True, f"Saved after waiting {time.monotonic() - self.started:.0f} s "
                              "for the database.")
        finally:
            self.store.patience = patience

    def finish(self, saved: bool, message: str) -> None:
        self.timer.stop()
        self.notify(message, severity="information" if saved else "error")
        self.dismiss(saved)

    def action_give_up(self) -> None:
        self.finish(False, "Not saved: gave up waiting for the database.")
