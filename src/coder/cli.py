"""The `coder` command line: parse, call the core, print. No SQL and no logic of its own."""

from __future__ import annotations

import csv
import functools
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from coder import __version__
from coder.commands import register as register_command_modules
from coder.commands.base import FORMATS, safe_cell, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import console as _console
from coder.commands.base import echo as _echo
from coder.commands.base import local_time as _local_time
from coder.commands.base import parse_ranges as _parse_ranges
from coder.commands.base import print_json as _json
from coder.commands.base import table as _table
from coder.commands.base import write_output as _write
from coder.errors import CoderError
from coder.formatting import clock
from coder.formatting import plural as n_

MAX_CSV = 256 * 2**20  # a codings table
MAX_CSV_FIELD = 2**20  # one cell (a memo): 1 MB


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


@cli.command()
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


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="The study's name (default: the folder name; from a coder "
              "export, the exported study's, so its GUIDs stay the same).")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Start from a REFI-QDA project or codebook (.qdpx, .qde, .qdc).")
def init(directory: Path | None, name: str | None, source: Path | None) -> None:
    """Make DIRECTORY (default: here) a study: coder.toml, codebooks/, transcripts/, exports/."""
    from coder.store.db import Store
    from coder.study import new_study

    if source is not None and name is None:  # a coder export keeps its GUIDs
        from coder.exchange.read import read_file
        from coder.exchange.write import made_by_coder

        project = read_file(source)
        name = project.name if made_by_coder(project.origin) and project.name else None

    with new_study(directory or Path.cwd(), name) as study:
        Store(study.db_path).close()
        if source is not None:
            from coder.commands.exchange import import_refi

            here = _Context(study.root, None)
            try:
                import_refi(here, source, "table", codes_only=source.suffix.lower() == ".qdc")
            finally:
                if here._store is not None:
                    here._store.close()
    click.echo(f"Study {study.settings.name!r} ready in {study.root}")
    if source is not None:
        return
    click.echo("Next: put transcripts in transcripts/ and a codebook in codebooks/, then "
               "`coder import transcripts/` and `coder codebook load codebooks/FILE.yaml`.")


@cli.command()
@study_options
def sync(ctx: _Context) -> None:
    """Import new or changed files in transcripts/ and load codebooks/*.yaml."""
    from coder.sync import sync_study

    result = sync_study(ctx.store("sync"), ctx.study)
    for outcome in result.transcripts:
        if outcome.status != "unchanged":
            _echo(f"{outcome.status}: {outcome.name}"
                       + (f" ({n_(outcome.segments, 'segment')})" if outcome.segments else "")
                       + (f", {outcome.detail}" if outcome.detail else ""))
            for note in outcome.notes:
                click.echo(f"  note: {note}")
            for warning in outcome.warnings:
                click.echo(f"  warning: {warning}", err=True)
    for name, changes in result.codebooks.items():
        if changes.added or changes.updated:
            _echo(f"codebook {name}: {n_(len(changes.added), 'code')} added, "
                       f"{len(changes.updated)} updated")
    if not result.changed:
        click.echo("The study is up to date.")


# -- import --------------------------------------------------------------------------------
@cli.command("import")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=False))
@click.option("--segment", "segmentation", type=click.Choice(["turn", "paragraph", "sentence"]),
              help="How to cut transcripts into segments (default: coder.toml, else turn).")
@click.option("--text-column", help="Surveys: the column holding the answers.")
@click.option("--id-column", help="Surveys: the column identifying respondents.")
@click.option("--replace", is_flag=True,
              help="Update transcripts whose file changed, keeping codings of unchanged segments.")
@click.option("--offsets", type=click.Choice(["codepoints", "utf16"]),
              help="REFI-QDA files: how selection offsets count (default: detected).")
@click.option("--reviewed", is_flag=True,
              help="REFI-QDA files: mark the imported sources reviewed by each coder who coded "
                   "them, so agreement counts their codings.")
@click.option("--pause", type=click.FloatRange(min=0, min_open=True), default=2.0,
              show_default=True,
              help="Captions: seconds of silence between cues that end a turn.")
@click.option("--preview", is_flag=True,
              help="Show what would be imported (format, speakers, first turns, times, "
                   "warnings) and write nothing.")
@study_options
def import_(ctx: _Context, paths: tuple[Path, ...], segmentation: str | None,
            text_column: str | None, id_column: str | None, replace: bool,
            offsets: str | None, reviewed: bool, pause: float, preview: bool) -> None:
    """Import transcripts (.txt .md .vtt .srt .docx .pdf), surveys (.csv .xlsx) and
    speakers.csv, or REFI-QDA projects and codebooks (.qdpx .qde .qdc) from other tools.

    Folders are searched for supported files. All or nothing: if any file is bad, every
    problem is listed and nothing is imported.
    """
    from coder.importer import ImportOptions, expand_paths

    refi = [p for p in paths if p.suffix.lower() in (".qdpx", ".qdc", ".qde")]
    if refi:
        if len(refi) != len(paths):
            raise CoderError("import REFI-QDA files (.qdpx, .qde, .qdc) on their own")
        if preview:
            raise CoderError("--preview reads transcripts and surveys, not REFI-QDA projects")
        from coder.commands.exchange import import_refi

        for path in refi:
            import_refi(ctx, path, "table", codes_only=path.suffix.lower() == ".qdc",
                        segmentation=segmentation, convention=offsets, reviewed=reviewed)
        return
    options = ImportOptions(segmentation=segmentation or ctx.study.settings.segmentation,
                            replace=replace, text_column=text_column, id_column=id_column,
                            segmentation_given=segmentation is not None, pause=pause)
    if preview:
        from coder.import_preview import preview_lines, preview_paths

        previews = preview_paths(ctx.study, list(paths), options)
        if not previews:
            raise CoderError("no transcript files found in " + ", ".join(map(str, paths)))
        for line in preview_lines(previews):
            click.echo(line)
        click.echo("\nNothing was imported (--preview).")
        return
    store = ctx.store("import")
    files = expand_paths(list(paths))
    if not files:
        raise CoderError("no transcript files found in " + ", ".join(map(str, paths)))
    if replace:
        from coder.store.backup import before

        with before(store, "import-replace"):
            _import_files(store, ctx, paths, files, options)
        return
    _import_files(store, ctx, paths, files, options)


def _import_files(store: Any, ctx: _Context, paths: tuple[Path, ...], files: list[Path],
                  options: Any) -> None:
    from coder.importer import import_paths

    if len(files) > 3 and sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True, console=_console().__class__(stderr=True)) as bar:
            task = bar.add_task("Reading", total=len(files))
            outcomes = import_paths(store, ctx.study, list(paths), options,
                                    progress=lambda p: bar.update(
                                        task, advance=1, description=f"Reading {p.name}"))
    else:
        outcomes = import_paths(store, ctx.study, list(paths), options)
    for outcome in outcomes:
        line = f"{outcome.status}: {outcome.name}"
        if outcome.segments:
            line += f" ({n_(outcome.segments, 'segment')})"
        if outcome.detail:
            line += f": {outcome.detail}"
        _echo(line)
        for note in outcome.notes:
            _echo(f"  note: {note}")
        for warning in outcome.warnings:
            _echo(f"  warning: {warning}", err=True)
        if outcome.replaced:
            rep = outcome.replaced
            click.echo(f"  kept {rep.kept_segments} unchanged segments with "
                       f"{rep.kept_codings} codings")
            for lost in rep.lost_codings:
                click.echo(f"  could not keep: segment {lost['segment']} {lost['code']!r} "
                           f"by {lost['coder']} (its text changed)")


@cli.command()
@click.argument("transcript")
@click.option("--force", is_flag=True, help="Also when it has codings (they are deleted too).")
@study_options
def remove(ctx: _Context, transcript: str, force: bool) -> None:
    """Delete a transcript from the study (its file is left alone), e.g. to import it again."""
    from coder.store.backup import before
    from coder.store.transcripts import get_transcript, remove_transcript

    store = ctx.store("remove")
    get_transcript(store, transcript)  # an unknown name is an error before any snapshot
    with before(store, "remove"):
        counts = remove_transcript(store, transcript, force=force)
    _echo(f"Removed {transcript} ({n_(counts['segments'], 'segment')}, "
               f"{n_(counts['codings'], 'coding')})")


# -- listings ------------------------------------------------------------------------------
@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def status(ctx: _Context, fmt: str) -> None:
    """Transcripts, segments, codes, codings and each coder's reviewed share."""
    from coder.store.status import study_status

    data = study_status(ctx.store())
    data = {"study": ctx.study.settings.name, "path": str(ctx.study.root), **data}
    if fmt == "json":
        return _json(data)
    _echo(f"Study: {data['study']}  ({data['path']})")
    click.echo(", ".join(n_(data[key], key.rstrip("s")) for key in (
        "transcripts", "segments", "tokens", "speakers", "codes", "codings", "memos")))
    if data["coders"]:
        _table("Coders", ["coder", "codings", "coded segments", "reviewed", "share"],
               [[c["coder"], c["codings"], c["coded_segments"], c["reviewed"],
                 f"{c['reviewed_share']:.0%}"] for c in data["coders"]])
    else:
        click.echo("No codings yet.")


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def transcripts(ctx: _Context, fmt: str) -> None:
    """List transcripts with kind, segments, and your reviewed share and codings."""
    from coder.media.find import all_media
    from coder.store.transcripts import list_transcripts

    rows = list_transcripts(ctx.store(), ctx.coder)
    found = all_media(ctx.store(), ctx.study.root)
    for r in rows:
        item = found.get(r["id"])
        r["media"], r["media_exists"] = (item.stored, item.exists) if item else (None, None)
    keys = ["name", "kind", "format", "segmentation", "segments", "speakers", "reviewed",
            "codings", "source_path", "metadata", "media", "media_exists"]
    if fmt == "json":
        return _json([{k: r[k] for k in keys} for r in rows])
    _table(f"Transcripts (coder: {ctx.coder})",
           ["name", "kind", "format", "segments", "speakers", "reviewed", "codings", "media"],
           [[r["name"], r["kind"], r["format"], r["segments"], r["speakers"],
             f"{r['reviewed']}/{r['segments']}", r["codings"],
             "" if r["media"] is None else r["media"] + ("" if r["media_exists"] else
                                                          " (missing)")] for r in rows])


@cli.command()
@click.argument("transcript")
@click.option("--segments", "ranges", help="Only these segments, e.g. 1-9,12.")
@click.option("--all-coders", is_flag=True, help="Show every coder's codes, not only yours.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def segments(ctx: _Context, transcript: str, ranges: str | None, all_coders: bool,
             fmt: str) -> None:
    """Show a transcript's segments with speakers, times and codes."""
    from coder.store.transcripts import get_transcript, list_segments

    store = ctx.store()
    row = get_transcript(store, transcript)
    rows = list_segments(store, row["id"], None if all_coders else ctx.coder,
                         _parse_ranges(ranges) if ranges else None)
    if fmt == "json":
        return _json([{k: r[k] for k in ("ordinal", "speaker", "role", "start", "end",
                                          "time_start", "time_end", "page", "text", "codes",
                                          "spans", "reviewed")} for r in rows])
    _table(row["name"], ["#", "speaker", "time", "text", "codes"],
           [[("✓" if r["reviewed"] else "") + str(r["ordinal"]), r["speaker"] or "",
             clock(r["time_start"]) or (f"p. {r['page']}" if r["page"] else ""), r["text"],
             "\n".join([", ".join(r["codes"])] * bool(r["codes"])
                       + [_span_label(s, all_coders) for s in r["spans"]])] for r in rows])


def _span_label(span: dict[str, Any], with_coder: bool) -> str:
    """``› need targeted PD 15-26 “targeted PD”`` (a span chip in a table)."""
    who = f" ({span['coder']})" if with_coder else ""
    return f"› {span['code']}{who} {span['start']}-{span['end']} {_span_words(span['text'], 40)}"


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def search(ctx: _Context, query: str, limit: int, fmt: str) -> None:
    """Full-text search over every segment (SQLite FTS5 syntax: words, "phrases", OR, NOT)."""
    from coder.store.transcripts import count_matches
    from coder.store.transcripts import search as run

    rows = run(ctx.store(), query, limit)
    if fmt == "json":
        return _json(rows)
    total = count_matches(ctx.store(), query)
    title = (f"{n_(total, 'match')} for {query!r}" if total <= len(rows)
             else f"first {len(rows)} of {total} matches for {query!r} (--limit shows more)")
    _table(title, ["transcript", "segment", "speaker", "text"],
           [[r["transcript"], r["segment"], r["speaker"], r["snippet"]] for r in rows])


# -- codebooks -----------------------------------------------------------------------------
@cli.group(cls=_Group)
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


# -- codes and codings ----------------------------------------------------------------------
@cli.group(cls=_Group)
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


def _span_words(text: str, limit: int = 60) -> str:
    return "“" + (text if len(text) <= limit else text[:limit - 1] + "…") + "”"


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


@cli.group(cls=_Group)
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


@cli.command()
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



# -- undo, redo and history ----------------------------------------------------------------
@cli.command("undo")
@study_options
def undo_(ctx: _Context) -> None:
    """Undo your latest change: codings, reviewed marks, memos, a code you added.

    Works across sessions (it reads the event log); stops at imports and codebook loads.
    """
    from coder.store.history import undo

    result = undo(ctx.store("undo"), ctx.coder)
    _echo(result.message if result else "Nothing to undo.")


@cli.command("redo")
@study_options
def redo_(ctx: _Context) -> None:
    """Redo the change you undid last (until you make a new change)."""
    from coder.store.history import redo

    result = redo(ctx.store("redo"), ctx.coder)
    _echo(result.message if result else "Nothing to redo.")


@cli.command("history")
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


# -- memos ---------------------------------------------------------------------------------
@cli.group(cls=_Group)
def memo() -> None:
    """Write, show and list memos on segments, codes, transcripts or the whole study.

    Each coder has at most one memo per target. Name the target with exactly one of
    --segment TRANSCRIPT N, --code NAME, --transcript NAME or --whole-study.
    """


def _memo_target_options(func: Callable) -> Callable:
    @click.option("--segment", "segment_ref", nargs=2, metavar="TRANSCRIPT N",
                  help="A segment: the transcript and the segment's number.")
    @click.option("--code", "code_name", metavar="NAME", help="A code.")
    @click.option("--transcript", "transcript_name", metavar="NAME", help="A transcript.")
    @click.option("--whole-study", is_flag=True, help="The study as a whole.")
    @functools.wraps(func)
    def wrapper(*args: Any, segment_ref: tuple[str, str] | None, code_name: str | None,
                transcript_name: str | None, whole_study: bool, **kwargs: Any):
        segment = None
        if segment_ref:
            try:
                segment = (segment_ref[0], int(segment_ref[1]))
            except ValueError:
                raise CoderError(f"--segment takes a transcript and a segment number, not "
                                 f"{segment_ref[1]!r}") from None
        selector = {"segment": segment, "code": code_name, "transcript": transcript_name,
                    "study": whole_study}
        if sum(bool(v) for v in selector.values()) != 1:
            raise CoderError("name one memo target: --segment TRANSCRIPT N, --code NAME, "
                             "--transcript NAME or --whole-study")
        return func(*args, selector=selector, **kwargs)

    return wrapper


@memo.command("set")
@click.argument("text")
@_memo_target_options
@study_options
def memo_set(ctx: _Context, selector: dict[str, Any], text: str) -> None:
    """Write your memo on a target (TEXT "-" reads standard input; "" deletes it)."""
    from coder.store.memos import get_memo, memo_target, set_memo, target_label

    if text == "-":
        text = sys.stdin.read()
    store = ctx.store("memo set")
    kind, target_id = memo_target(store, **selector)
    where = target_label(store, kind, target_id)
    had = get_memo(store, kind, target_id, ctx.coder) is not None
    outcome = set_memo(store, kind, target_id, ctx.coder, text)
    if outcome == "unchanged":
        _echo(f"Memo on {where} unchanged ({ctx.coder})" if had
                   else f"No memo on {where} to delete ({ctx.coder})")
    else:
        _echo(f"{outcome.capitalize()} memo on {where} ({ctx.coder})")


@memo.command("show")
@click.option("--all-coders", is_flag=True, help="Every coder's memo on the target.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@_memo_target_options
@study_options
def memo_show(ctx: _Context, selector: dict[str, Any], all_coders: bool, fmt: str) -> None:
    """Print your memo (or everyone's) on a target."""
    from coder.store.memos import list_memos, memo_target, target_label

    store = ctx.store()
    kind, target_id = memo_target(store, **selector)
    rows = [r for r in list_memos(store, kind, None if all_coders else ctx.coder)
            if r["target_id"] == target_id]
    if fmt == "json":
        return _json([_memo_json(r) for r in rows])
    if not rows:
        _echo(f"No memo on {target_label(store, kind, target_id)}"
                   + ("." if all_coders else f" by {ctx.coder}."))
        return
    for number, row in enumerate(rows):
        if all_coders:
            _echo(("\n" if number else "") + f"## {row['coder']} ({row['updated_at']})")
        _echo(row["text"])


def _memo_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("kind", "target", "transcript", "segment", "code", "coder",
                                "text", "created_at", "updated_at")}


@memo.command("list")
@click.option("--kind", type=click.Choice(["segment", "code", "transcript", "study"]),
              help="Only memos on this kind of target.")
@click.option("--all-coders", is_flag=True, help="Every coder's memos (default: yours).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def memo_list(ctx: _Context, kind: str | None, all_coders: bool, fmt: str) -> None:
    """List memos: the study's, then transcripts', codes' and segments' in order."""
    from coder.store.memos import list_memos

    rows = list_memos(ctx.store(), kind, None if all_coders else ctx.coder)
    if fmt == "json":
        return _json([_memo_json(r) for r in rows])
    if not rows:
        click.echo("No memos yet." if all_coders else f"No memos by {ctx.coder} yet.")
        return
    _table(f"{len(rows)} memos" + ("" if all_coders else f" (coder: {ctx.coder})"),
           ["on", "target", "coder", "updated", "memo"],
           [[r["kind"], r["target"], r["coder"], _local_time(r["updated_at"]), r["text"]]
            for r in rows])


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

