"""Command groups that live in their own modules; each has ``register(group)``."""

from __future__ import annotations

import importlib

import click

MODULES = ("learn", "agreement", "reports", "exchange", "maintenance", "media")


def register(group: click.Group) -> None:
    """Add the commands of every module that is present."""
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        module.register(group)
    export, quotes = group.commands.get("export"), group.commands.get("quotes")
    if isinstance(export, click.Group) and quotes is not None:
        export.add_command(quotes, "quotes")  # `coder export quotes` = `coder quotes`
