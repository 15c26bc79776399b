"""The event log: `coder undo`, `coder redo` and `coder history`."""

from __future__ import annotations

import click

from coder.commands.base import FORMATS, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import echo as _echo
from coder.commands.base import local_time as _local_time
from coder.commands.base import print_json as _json
from coder.commands.base import table as _table


@click.command("undo")
@study_options
def undo_(ctx: _Context) -> None:
    """Undo your latest change: codings, reviewed marks, memos, a code you added.

    Works across sessions (it reads the event log); stops at imports and codebook loads.
    """
    from coder.store.history import undo

    result = undo(ctx.store("undo"), ctx.coder)
    _echo(result.message if result else "Nothing to undo.")


@click.command("redo")
@study_options
def redo_(ctx: _Context) -> None:
    """Redo the change you undid last (until you make a new change)."""
    from coder.store.history import redo

    result = redo(ctx.store("redo"), ctx.coder)
    _echo(result.message if result else "Nothing to redo.")


@click.command("history")
@click.option("--all-coders", is_flag=True, help="Every coder's changes (default: yours).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many changes (batches) to show.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def history_(ctx: _Context, all_coders: bool, limit: int, fmt: str) -> None:
    """The latest changes from the event log, newest first, and what was undone."""
    from coder.store.history import history

    rows = history(ctx.store(), None if all_coders else ctx.coder, limit)
    if fmt == "json":
        return _json(rows)
    if not rows:
        click.echo("No changes yet." if all_coders else f"No changes by {ctx.coder} yet.")
        return
    state = {"undo": "undo of {target}", "redo": "redo of {target}"}
    _table("History" if all_coders else f"History (coder: {ctx.coder})",
           ["change", "time", "coder", "command", "what", "state"],
           [[r["batch"], _local_time(r["time"]), _who(r["coder"], r["os_user"]), r["command"],
             r["summary"],
             "undone" if r["undone"] else state.get(r["kind"], "").format(**r)]
            for r in rows])


def _who(coder: str, os_user: str) -> str:
    """The coder name, and the account that wrote as that coder when the two differ."""
    return f"{coder} (login: {os_user})" if os_user and os_user != coder else coder



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(undo_)
    group.add_command(redo_)
    group.add_command(history_)
