"""Making and filling a study: `coder init`, `coder sync`, `coder import` and `coder remove`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from coder.commands.base import Context as _Context
from coder.commands.base import console as _console
from coder.commands.base import echo as _echo
from coder.commands.base import study_options
from coder.errors import CoderError
from coder.formatting import plural as n_


@click.command()
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


@click.command()
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


@click.command("import")
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


@click.command()
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



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(init)
    group.add_command(sync)
    group.add_command(import_)
    group.add_command(remove)
