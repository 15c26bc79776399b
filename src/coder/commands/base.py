"""The command line's plumbing, shared by the root group (`coder.cli`) and every module in
`coder.commands`: the error-catching group, the lazily opened study and store, --study/--coder,
and the table/JSON/file output helpers. It imports no command module, so each imports alone."""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from coder.errors import CoderError

if TYPE_CHECKING:
    from coder.store.db import Store
    from coder.study import Study

FORMATS = click.Choice(["table", "json"])


# -- plumbing ------------------------------------------------------------------------------
class Group(click.Group):
    """Turns user errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CoderError as exc:
            fail(str(exc))
        except sqlite3.Error as exc:
            from coder.store.db import database_error

            fail(str(database_error(exc, ctx.find_root().meta.get("coder.db"))))
        except MemoryError:
            fail("out of memory; nothing half-written was kept")
        except KeyboardInterrupt:
            click.echo("coder: interrupted; nothing half-written was kept", err=True)
            sys.exit(130)


def echo(message: Any = "", **kwargs: Any) -> None:
    """click.echo for messages: control characters in names are shown, not obeyed."""
    from coder.formatting import visible

    click.echo(visible(str(message)), **kwargs)


def fail(message: str) -> None:
    from coder.formatting import visible

    for line in message.splitlines():
        click.echo(f"coder: error: {visible(line)}", err=True)
    sys.exit(1)


def study_options(func: Callable) -> Callable:
    """Every command takes --study and --coder."""

    @click.option("--study", "study_dir", type=click.Path(file_okay=False, path_type=Path),
                  help="The study folder (default: the nearest folder upward with coder.toml).")
    @click.option("--coder", "coder_name", help="Who is coding (default: CODER_NAME, "
                  "coder.toml, then your login name).")
    @functools.wraps(func)
    def wrapper(*args: Any, study_dir: Path | None, coder_name: str | None, **kwargs: Any):
        ctx = click.get_current_context()
        parent = ctx.find_root().params
        study_dir = study_dir or parent.get("study_dir")
        coder_name = coder_name or parent.get("coder_name")
        here = Context(study_dir, coder_name)
        result = func(*args, ctx=here, **kwargs)
        if here._store is not None and here._store.command:  # a command that writes
            from coder.store.backup import daily

            try:
                daily(here._store)  # a snapshot a day while coding
            except CoderError as exc:  # the command itself succeeded: say so, not fail
                click.echo(f"coder: warning: no daily snapshot ({exc})", err=True)
        return result

    return wrapper


class Context:
    """Opens the study and its database lazily, once per command."""

    def __init__(self, study_dir: Path | None, coder_name: str | None):
        self.study_dir = study_dir
        self.coder_name = coder_name
        self._study: Study | None = None
        self._store: Store | None = None

    @property
    def study(self) -> Study:
        if self._study is None:
            from coder.study import find_study, open_study

            self._study = open_study(self.study_dir) if self.study_dir else find_study()
        return self._study

    @property
    def coder(self) -> str:
        return self.study.coder_name(self.coder_name)

    def store(self, command: str = "") -> Store:
        if self._store is None:
            from coder.store.db import Store, writable

            path = self.study.db_path
            click.get_current_context().find_root().meta["coder.db"] = path
            # Commands that only read (no command name) work in a read-only study.
            read_only = not command and path.exists() and not writable(path)
            self._store = Store(path, coder=self.coder, command=command, read_only=read_only,
                                on_wait=say_waiting())
            # Close (and checkpoint the WAL into coder.db) when the command ends.
            click.get_current_context().call_on_close(self._store.close)
        return self._store


def say_waiting() -> Callable[[float | None], None]:
    """Tell the user, once, that the command waits for another writer (rather than failing)."""
    told = False

    def waiting(seconds: float | None) -> None:
        nonlocal told
        if seconds is not None and not told:
            told = True
            click.echo("coder: waiting for the database: another coder or command is writing "
                       "(ctrl+c stops)…", err=True)

    return waiting


def console():
    from rich.console import Console

    # Piped or redirected output is read by scripts and pagers: do not wrap at 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=160)


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from coder.formatting import visible

    table = Table(title=escape(visible(title)) if title else None, show_lines=False)
    for column in columns:
        justify: Literal["left", "right"] = "right" if column.lower() in {
            "#", "segments", "codings", "reviewed", "n", "speakers", "count", "share",
            "segment"} else "left"
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else escape(visible(str(v))) for v in row])
    console().print(table)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def parse_ranges(spec: str):
    """`1-9,12` -> intervals (see :mod:`coder.ranges`)."""
    from coder.ranges import parse_ranges as parse

    return parse(spec)


def safe_cell(value: Any) -> str:
    from coder.codings_tables import safe_cell as cell

    return cell(value)


def write_output(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    from coder.files import write_text

    write_text(out, text)
    click.echo(f"Wrote {out}", err=True)


def local_time(stamp: str) -> str:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def span_words(text: str, limit: int = 60) -> str:
    """A span's words in quotes, cut to ``limit`` characters."""
    return "“" + (text if len(text) <= limit else text[:limit - 1] + "…") + "”"
