"""Coding: `coder code add|rename|merge|move|apply|remove`, `coder codings import|export`
and `coder review`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import click

from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import echo as _echo
from coder.commands.base import parse_ranges as _parse_ranges
from coder.commands.base import span_words as _span_words
from coder.commands.base import study_options
from coder.commands.base import write_output as _write
from coder.errors import CoderError
from coder.formatting import plural as n_

MAX_CSV = 256 * 2**20  # a codings table


MAX_CSV = 256 * 2**20  # a codings table
MAX_CSV_FIELD = 2**20  # one cell (a memo): 1 MB


@click.group(cls=_Group)
def code() -> None:
    """Add, rename, merge and move codes; apply and remove them on segments."""


@code.command("add")
@click.argument("name")
@click.option("--parent", help="The parent code.")
@click.option("--definition", default="", help="What the code means.")
@click.option("--key", help="A one-key shortcut in the workbench.")
@click.option("--color", help="A hex colour like #1f77b4.")
@study_options
def code_add(ctx: _Context, name: str, parent: str | None, definition: str, key: str | None,
             color: str | None) -> None:
    """Add a code to the codebook."""
    from coder.codebook import _COLOR
    from coder.store.codes import add_code

    if color and not _COLOR.match(color):
        raise CoderError(f"color {color!r} must be a hex colour like #1f77b4")
    add_code(ctx.store("code add"), name, parent=parent, definition=definition,
             key=key.lower() if key else None, color=color)
    click.echo(f"Added code {name!r}" + (f" under {parent!r}" if parent else ""))


@code.command("rename")
@click.argument("old")
@click.argument("new")
@study_options
def code_rename(ctx: _Context, old: str, new: str) -> None:
    """Rename a code; its codings follow."""
    from coder.store.codes import rename_code

    rename_code(ctx.store("code rename"), old, new)
    click.echo(f"Renamed {old!r} to {new!r}")


@code.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("into", metavar="INTO")
@study_options
def code_merge(ctx: _Context, source: str, into: str) -> None:
    """Merge code FROM into INTO: its codings and children move, FROM is deleted."""
    from coder.store.codes import merge_code

    result = merge_code(ctx.store("code merge"), source, into)
    click.echo(f"Merged {source!r} into {into!r}: {result['moved']} codings moved, "
               f"{result['already_there']} were already there")


@code.command("move")
@click.argument("name")
@click.option("--parent", required=True, help='The new parent ("" for the top level).')
@study_options
def code_move(ctx: _Context, name: str, parent: str) -> None:
    """Move a code (and its children) under another code."""
    from coder.store.codes import move_code

    move_code(ctx.store("code move"), name, parent or None)
    click.echo(f"Moved {name!r} " + (f"under {parent!r}" if parent else "to the top level"))


def _span_options(func: Callable) -> Callable:
    """--text / --occurrence / --chars: words inside the segment instead of all of it."""
    func = click.option("--chars", metavar="START-END",
                        help="Only these characters of the segment's text (0 = its first; "
                             "END not included).")(func)
    func = click.option("--occurrence", type=click.IntRange(min=1), default=1,
                        show_default=True, help="With --text: which occurrence.")(func)
    return click.option("--text", "words", metavar="WORDS",
                        help="Only these exact words of the segment (the first time they "
                             "occur, or --occurrence N).")(func)


@code.command("apply")
@click.argument("transcript")
@click.argument("segment", type=int)
@click.argument("code_name", metavar="CODE")
@click.option("--memo", help="A note on why.")
@_span_options
@study_options
def code_apply(ctx: _Context, transcript: str, segment: int, code_name: str,
               memo: str | None, words: str | None, occurrence: int,
               chars: str | None) -> None:
    """Give segment SEGMENT of TRANSCRIPT the code CODE (or only some of its words)."""
    from coder.store.codings import apply_by_name
    from coder.store.spans import span_by_name

    if words is None and chars is None:
        if occurrence != 1:
            raise CoderError("--occurrence goes with --text")
        row, added = apply_by_name(ctx.store("code apply"), transcript, segment, code_name,
                                   coder=ctx.coder, memo=memo)
        _echo(f"{'Coded' if added else 'Already coded'} {transcript} ¶{segment} "
              f"{row['name']!r} ({ctx.coder})")
        return
    row, change, note = span_by_name(ctx.store("code apply"), transcript, segment, code_name,
                                     coder=ctx.coder, words=words, occurrence=occurrence,
                                     chars=chars, memo=memo)
    verb = {"added": "Coded", "replaced": "Re-coded", "unchanged": "Already coded"}
    was = "; was " + ", ".join(f"{a}-{b}" for a, b in change.replaced) if change.replaced \
        else ""
    _echo(f"{verb[change.action]} {transcript} ¶{segment} characters "
          f"{change.start}-{change.end} {_span_words(change.text)} {row['name']!r} "
          f"({ctx.coder}{'; ' + note if note else ''}{was})")


@code.command("remove")
@click.argument("transcript")
@click.argument("segment", type=int)
@click.argument("code_name", metavar="CODE")
@_span_options
@study_options
def code_remove(ctx: _Context, transcript: str, segment: int, code_name: str,
                words: str | None, occurrence: int, chars: str | None) -> None:
    """Take the code CODE off segment SEGMENT of TRANSCRIPT (all of it: the whole-segment
    coding and its spans; with --text or --chars only the spans over those words)."""
    from coder.store.codings import remove_by_name
    from coder.store.spans import unspan_by_name

    if words is not None or chars is not None:
        row, spans = unspan_by_name(ctx.store("code remove"), transcript, segment, code_name,
                                    coder=ctx.coder, words=words, occurrence=occurrence,
                                    chars=chars)
        if not spans:
            raise CoderError(f"{transcript} ¶{segment} has no span of {row['name']!r} from "
                             f"{ctx.coder} over those words")
        click.echo(f"Removed {row['name']!r} from characters "
                   f"{', '.join(f'{a}-{b}' for a, b in spans)} of {transcript} ¶{segment} "
                   f"({ctx.coder})")
        return
    row, removed = remove_by_name(ctx.store("code remove"), transcript, segment, code_name,
                                  coder=ctx.coder)
    if not removed:
        raise CoderError(f"{transcript} ¶{segment} does not have {row['name']!r} "
                         f"from {ctx.coder}")
    click.echo(f"Removed {row['name']!r} from {transcript} ¶{segment} ({ctx.coder})")


@click.group(cls=_Group)
def codings() -> None:
    """Import and export codings as tables."""


@codings.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@study_options
def codings_import(ctx: _Context, file: Path) -> None:
    """Apply codings from a CSV with columns transcript,segment,code[,coder][,memo].

    Rows without a coder are yours (--coder, CODER_NAME, ...). Optional columns make a
    row a span coding: start,end (offsets in the segment's text, as `codings export`
    writes them) or the coded words in span_text (or text; the first time they occur,
    or the occurrence-th).

    All or nothing: every bad row is reported and then nothing is applied.
    """
    from coder.ingest.decode import decode_bytes
    from coder.store.codings import import_codings

    if not file.is_file():
        raise CoderError("no such file", path=file)
    if file.stat().st_size > MAX_CSV:
        raise CoderError(f"refused: {file.stat().st_size / 2**20:.0f} MB is more than a "
                         f"codings table needs (at most {MAX_CSV // 2**20} MB)", path=file)
    reader = csv.DictReader(io.StringIO(decode_bytes(file.read_bytes(), file)))
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
    try:
        fieldnames = reader.fieldnames
        raw = list(reader)
    except csv.Error as exc:
        raise CoderError(f"not a readable CSV table ({exc})", path=file,
                         line=reader.line_num) from None
    columns = [(c or "").strip().lower() for c in fieldnames or []]
    missing = [c for c in ("transcript", "segment", "code") if c not in columns]
    if missing:
        raise CoderError(f"missing column(s) {', '.join(missing)} (columns: "
                         f"{', '.join(columns) or 'none'}); expected "
                         "transcript,segment,code[,coder][,memo][,start,end|,text]",
                         path=file)
    rows = [{(k or "").strip().lower(): v or "" for k, v in row.items()
             if isinstance(v, str | None)} for row in raw]
    added, present, problems = import_codings(ctx.store("codings import"), rows,
                                              default_coder=ctx.coder)
    if problems:
        raise CoderError("\n".join(
            [f"{file}:{p.row}: {p.reason}" for p in problems]
            + [f"{file}: {n_(len(problems), 'bad row')}; no codings were imported"]))
    _echo(f"{file.name}: {added} codings added, {present} already present")


@codings.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--all-coders", is_flag=True, help="Every coder's codings (default: yours).")
@study_options
def codings_export(ctx: _Context, fmt: str, out: Path | None, all_coders: bool) -> None:
    """Export codings, one row per coding, in document order."""
    from coder.codings_tables import codings_csv, codings_json
    from coder.store.codings import export_codings

    rows = export_codings(ctx.store(), None if all_coders else ctx.coder)
    _write(codings_json(rows) if fmt == "json" else codings_csv(rows), out)


@click.command()
@click.argument("transcripts", nargs=-1, required=True)
@click.option("--segments", "ranges", help="Only these segments, e.g. 1-9,12 (default: all).")
@click.option("--undo", is_flag=True, help="Take the reviewed marks off instead.")
@study_options
def review(ctx: _Context, transcripts: tuple[str, ...], ranges: str | None, undo: bool) -> None:
    """Mark segments as reviewed: looked at, and their codes are complete."""
    from coder.store.codings import mark_reviewed, unmark_reviewed
    from coder.store.transcripts import get_transcript, list_segments

    store = ctx.store("review")
    wanted = _parse_ranges(ranges) if ranges else None
    ids: list[int] = []
    for name in transcripts:
        row = get_transcript(store, name)
        segs = list_segments(store, row["id"], ctx.coder, wanted)
        if wanted:
            found = [s["ordinal"] for s in segs]
            absent = [str(n) for n in wanted.missing(found)] + wanted.empty_spans(found)
            if absent:
                raise CoderError(f"{row['name']} has no segment(s) "
                                 f"{', '.join(absent[:10])}")
        ids += [s["id"] for s in segs]
    change = unmark_reviewed if undo else mark_reviewed
    with store.transaction("review"):
        n = change(store, ids, coder=ctx.coder)
    verb = "Unmarked" if undo else "Marked"
    click.echo(f"{verb} {n} segments as reviewed by {ctx.coder} "
               f"({len(ids) - n} already {'unmarked' if undo else 'reviewed'})")



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(code)
    group.add_command(codings)
    group.add_command(review)
