"""Command groups that live in their own modules; each has ``register(group)``.

Every module is imported and registered explicitly: a missing or broken one is an error at
start-up, never a command silently gone. The shared plumbing is in :mod:`coder.commands.base`.
"""

from __future__ import annotations

import click

from coder.commands import (
    agreement,
    codebook,
    coding,
    exchange,
    history,
    learn,
    listing,
    maintenance,
    media,
    memos,
    study,
    workbench,
    write_up,
)

MODULES = (workbench, study, listing, codebook, coding, history, memos,
           learn, agreement, write_up, exchange, maintenance, media)


def register(group: click.Group) -> None:
    """Add the commands of every command module to ``group`` (the root `coder` group)."""
    for module in MODULES:
        module.register(group)
    export, quotes = group.commands.get("export"), group.commands.get("quotes")
    if isinstance(export, click.Group) and quotes is not None:
        export.add_command(quotes, "quotes")  # `coder export quotes` = `coder quotes`
