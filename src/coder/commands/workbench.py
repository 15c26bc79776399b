"""The workbench command: `coder tui` (and `coder` with no command) brings the study up
to date and opens the Textual app."""

from __future__ import annotations

import sys

import click

from coder.commands.base import Context as _Context
from coder.commands.base import echo as _echo
from coder.commands.base import study_options
from coder.commands.listing import status
from coder.commands.study import sync
from coder.errors import CoderError


@click.command()
@click.option("--no-sync", is_flag=True, help="Open without importing new files first.")
@study_options
def tui(ctx: _Context, no_sync: bool) -> None:
    """Open the coding workbench (imports new or changed files in transcripts/ first)."""
    here = click.get_current_context()
    if not no_sync:
        try:
            here.invoke(sync, study_dir=ctx.study_dir, coder_name=ctx.coder_name)
        except CoderError as exc:  # a bad file must not keep the study closed
            for line in str(exc).splitlines():
                click.echo(f"coder: warning: {line}", err=True)
            click.echo("coder: warning: nothing was synced; the workbench opens the study as it "
                  "was (fix the file, then `coder sync`)", err=True)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        click.echo("Not a terminal, so the workbench does not open; here is the study:")
        here.invoke(status, study_dir=ctx.study_dir, coder_name=ctx.coder_name)
        return
    from coder.store.backup import daily
    from coder.tui import CoderApp

    study = ctx.study
    try:
        daily(ctx.store("workbench"))  # a snapshot a day while coding
    except CoderError as exc:
        _echo(f"coder: warning: no daily snapshot ({exc})", err=True)
    CoderApp(study, ctx.coder).run()



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(tui)
