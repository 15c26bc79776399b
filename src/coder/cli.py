"""The `coder` command line: the root group and the console script. Every command lives in a
module of :mod:`coder.commands` (parse, call the core, print; no SQL, no logic of its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from coder import __version__
from coder.commands import register as register_command_modules
from coder.commands.base import Group as _Group
from coder.commands.workbench import tui


# -- the group -----------------------------------------------------------------------------
@click.group(cls=_Group, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--study", "study_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The study folder (default: the nearest folder upward with coder.toml).")
@click.option("--coder", "coder_name", help="Who is coding.")
@click.version_option(__version__, prog_name="coder")
@click.pass_context
def cli(ctx: click.Context, study_dir: Path | None, coder_name: str | None) -> None:
    """coder: code qualitative transcripts with a codebook, alone or as a team.

    Without a command, brings the study up to date with its transcripts/ and codebooks/
    folders and opens the coding workbench (in a terminal; elsewhere it shows the status).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


register_command_modules(cli)  # every group in coder.commands, each named there


def main() -> None:
    """The console script. Exits without the interpreter's slow teardown of large imports."""
    import os

    try:
        cli(prog_name="coder")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            click.echo(exc.code, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

