"""The codebook: `coder codebook load|show|export`."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from coder.commands.base import FORMATS, safe_cell, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import console as _console
from coder.commands.base import echo as _echo
from coder.commands.base import print_json as _json
from coder.commands.base import write_output as _write
from coder.errors import CoderError
from coder.formatting import plural as n_


@click.group(cls=_Group)
def codebook() -> None:
    """Load, show and export the codebook."""


@codebook.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True,
              help="Delete codes that are not in FILE, with their codings.")
@study_options
def codebook_load(ctx: _Context, file: Path, prune: bool) -> None:
    """Validate FILE and create or update its codes by name."""
    from coder.codebook import load_codebook
    from coder.store.codes import apply_codebook

    if not file.is_file():
        raise CoderError("no such file", path=file)
    specs = load_codebook(file)
    store = ctx.store("codebook load")
    if prune:
        from coder.store.backup import before

        with before(store, "prune"):
            changes = apply_codebook(store, specs, prune=prune, source=file.name)
    else:
        changes = apply_codebook(store, specs, prune=prune, source=file.name)
    _echo(f"{file.name}: {n_(len(specs), 'code')}; {len(changes.added)} added, "
               f"{len(changes.updated)} updated, {len(changes.unchanged)} unchanged")
    if changes.kept:
        _echo(f"Not in {file.name} but kept (--prune would delete them and their "
                   f"codings): {', '.join(changes.kept)}")
    for name, n in changes.pruned.items():
        click.echo(f"Deleted {name!r} and its {n_(n, 'coding')}")


@codebook.command("show")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def codebook_show(ctx: _Context, fmt: str) -> None:
    """The code tree with keys and coding counts."""
    from coder.store.codes import list_codes

    codes = list_codes(ctx.store())
    if fmt == "json":
        return _json([_code_json(c, codes) for c in codes])
    from rich.markup import escape
    from rich.tree import Tree

    from coder.formatting import visible

    name = escape(visible(ctx.study.settings.name))
    tree = Tree(f"[bold]{name}[/] codebook ({len(codes)} codes)")
    nodes = {None: tree}
    for code in codes:
        key = f"[bold]{escape('[' + code['key'] + ']')}[/] " if code["key"] else ""
        colour = code["color"] or "white"
        label = (f"{key}[{colour}]■[/] {escape(code['name'])}  [dim]{code['codings']} codings"
                 f"{' · exclusive' if code['exclusive'] else ''}[/]")
        label = visible(label)
        nodes[code["id"]] = nodes[code["parent_id"]].add(label)
    _console().print(tree)


def _code_json(code: dict[str, Any], codes: list[dict[str, Any]]) -> dict[str, Any]:
    parent = next((c["name"] for c in codes if c["id"] == code["parent_id"]), None)
    return {"name": code["name"], "parent": parent, "path": code["path"],
            "definition": code["definition"], "include": code["include"],
            "exclude": code["exclude"], "examples": code["examples"], "key": code["key"],
            "color": code["color"], "patterns": code["patterns"],
            "exclusive": code["exclusive"], "codings": code["codings"],
            "segments": code["segments"]}


@codebook.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "md", "csv", "taguette-csv"]),
              default="yaml", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@study_options
def codebook_export(ctx: _Context, fmt: str, out: Path | None) -> None:
    """Write the codebook as YAML (loadable again), Markdown or CSV.

    taguette-csv is the CSV Taguette's codebook import takes: one `tag` column (the code's
    name), its `description` (the definition with include, exclude and examples, as in
    `export qdc`) and its `parent`.
    """
    from coder.codebook import to_markdown, to_yaml
    from coder.store.codes import list_codes

    codes = list_codes(ctx.store())
    if fmt == "yaml":
        text = to_yaml(codes)
    elif fmt == "md":
        text = to_markdown(codes, f"{ctx.study.settings.name}: codebook")
    elif fmt == "taguette-csv":
        from coder.exchange.write import taguette_csv

        text = taguette_csv(codes)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["name", "parent", "path", "definition", "include", "exclude",
                         "examples", "key", "color", "exclusive", "codings"])
        for code in codes:
            data = _code_json(code, codes)
            writer.writerow([safe_cell(data[k]) for k in (
                "name", "parent", "path", "definition", "include", "exclude")]
                + [safe_cell(" | ".join(data["examples"])), data["key"] or "", data["color"] or "",
                   int(data["exclusive"]), data["codings"]])
        text = buffer.getvalue()
    _write(text, out)



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(codebook)
