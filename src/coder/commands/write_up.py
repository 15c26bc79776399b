"""Report-writing commands: `coder quotes` (the quote bank) and `coder report ...` tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import study_options
from coder.commands.base import table as _table
from coder.errors import CoderError
from coder.formatting import plural as n_

QUOTE_FORMATS = ["md", "docx", "html", "csv", "xlsx", "json"]
TABLE_FORMATS = click.Choice(["table", "csv", "json", "md"])


def _names(values: tuple[str, ...]) -> list[str]:
    """Repeated and/or comma-separated names."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _coder(ctx: _Context) -> str:
    """--coder when given, else `consensus` when it has codings, else the current coder."""
    from coder.quotes import default_coder

    if ctx.coder_name:
        return ctx.coder
    return default_coder(ctx.store(), ctx.coder)


def _filters(func: Callable) -> Callable:
    """--codes, --theme and --where, shared by the quote bank and the reports."""
    func = click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
                        help="Only segments whose speaker attribute (or transcript metadata) "
                             "KEY is VALUE, e.g. role=teacher; repeat (a key given twice "
                             "means either value).")(func)
    func = click.option("--theme", help="Only the codes under this theme (a parent code).")(func)
    func = click.option("--codes", "codes", multiple=True,
                        help="Only these codes (comma-separated or repeated).")(func)
    return func


# -- the quote bank ---------------------------------------------------------------------------
@click.command("quotes")
@_filters
@click.option("--per-code", type=int, default=3, show_default=True,
              help="Quotes per code.")
@click.option("--all", "all_", is_flag=True, help="Every coded segment, most typical first.")
@click.option("--memos", is_flag=True, help="Include the memos written on each code.")
@click.option("--min-chars", type=click.IntRange(min=0), default=40, show_default=True,
              help="Shorter segments are quoted only when nothing longer is left.")
@click.option("--max-chars", type=click.IntRange(min=20), default=400, show_default=True,
              help="Longer segments are trimmed to the sentences that carry the code.")
@click.option("--context", is_flag=True,
              help="A coded span is quoted with its whole sentence(s), not only its words.")
@click.option("--format", "fmt", type=click.Choice(QUOTE_FORMATS), default="md",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write ('-' for standard output, text formats only; default: "
                   "exports/quotes-CODER.FORMAT).")
@click.option("--include-interviewers", is_flag=True,
              help="Quote interviewers', hosts' and moderators' turns too (speakers.csv role; "
                   "left out by default, unless --where names a role).")
@study_options
def quotes(ctx: _Context, codes: tuple[str, ...], theme: str | None, where: tuple[str, ...],
           per_code: int, all_: bool, memos: bool, min_chars: int, max_chars: int,
           context: bool, fmt: str, out: Path | None, include_interviewers: bool) -> None:
    """A quote bank: per theme and code, its definition, counts and the most representative
    quotes, each with a citation.

    The coder whose codings are quoted is --coder, else `consensus` when that coder has
    codings, else you. Quotes pinned or excluded in the workbench's quote bank screen
    (ctrl+p) hold for every coder's bank: pinned ones first, excluded ones never.
    Per code, segments are ranked by typicality (cosine similarity of
    their TF-IDF lemma vector to the code's centroid) and picked by maximal marginal
    relevance, so quotes are not near-duplicates and spread across transcripts and
    speakers. Long turns are trimmed to the sentences that carry the code (codebook pattern
    matches, else the most typical sentences), marked with an ellipsis; the words are never
    changed. Where words inside a segment were coded (a span), the quote is those words
    (whole words, … where the segment goes on; --context: their sentences).
    Formats: md, docx, html (one self-contained file), csv and xlsx (one row per
    coded segment and code, with every speaker attribute; xlsx adds a 0/1 segment-by-code
    sheet; formula-like cells are neutralised), json (per code its quotes in rank order:
    code, rank, transcript, segment, speaker, text, citation, ...).
    """
    from coder.exporters import SUFFIX, write_bank
    from coder.quotes import Options, build_bank

    if per_code < 1:
        raise CoderError("--per-code must be at least 1")
    store = ctx.store("quotes")
    coder = _coder(ctx)
    bank = build_bank(store, study=ctx.study.settings.name, coder=coder, codes=_names(codes),
                      theme=theme, where=where, memos=memos, nlp_model=ctx.study.settings.nlp_model,
                      options=Options(per_code=per_code, all=all_, min_chars=min_chars,
                                      max_chars=max_chars, context=context,
                                      include_interviewers=include_interviewers))
    if not bank.rows:
        from coder.store.quote_choices import coding_counts

        others = [(who, n) for who, n in coding_counts(store) if who != coder]
        hint = ("; coders with codings: " + ", ".join(f"{who} ({n})" for who, n in others)
                + f" (name one with --coder, e.g. --coder {others[0][0]})") if others else ""
        click.echo(f"coder: warning: {coder} has no codings"
                   + (" matching the filters" if where else "") + "; the bank is empty"
                   + hint, err=True)
    if out is not None and str(out) == "-":
        from coder.exporters import render

        click.echo(render(bank, fmt), nl=False)
        return
    path = out or ctx.study.exports_dir / f"quotes-{_safe_name(coder)}{SUFFIX[fmt]}"
    write_bank(bank, fmt, path)
    quoted = sum(len(c.quotes) for c in bank.codes)
    click.echo(f"Wrote {path}: {n_(len(bank.codes), 'code')}, {n_(quoted, 'quote')} "
               f"(coder: {coder})", err=True)


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "coder"


# -- reports ------------------------------------------------------------------------------------
@click.group("report", cls=_Group)
def report() -> None:
    """Tables and charts for a report: code frequencies, co-occurrence, codes by attribute.

    Counts are coded segments of one coder (--coder, else `consensus` when it has codings,
    else you).
    """


def _table_options(func: Callable) -> Callable:
    func = click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
                        help="Also draw the table as a PNG chart here.")(func)
    func = click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write the table to this file instead of printing it "
                             "(--format table writes Markdown there).")(func)
    func = click.option("--format", "fmt", type=TABLE_FORMATS, default="table",
                        show_default=True)(func)
    return _filters(func)


def _data(ctx: _Context, codes: tuple[str, ...], theme: str | None, where: tuple[str, ...]):
    from coder.reports import load

    return load(ctx.store(), _coder(ctx), codes=_names(codes), theme=theme, where=where)


def _show(table: Any, fmt: str, out: Path | None, chart: Path | None, kind: str) -> None:
    from coder import reports
    from coder.exporters import write_text

    if fmt == "table" and out is None:
        rows = [[row[0]] + [reports._cell_text(table, i, j) for j in range(1, len(row))]
                for i, row in enumerate(table.rows)]
        if rows:
            _table(table.title, table.columns, rows)
        else:
            click.echo(f"{table.title}: no coded segments.")
    else:
        text = {"json": reports.to_json, "csv": reports.to_csv,
                "md": reports.to_markdown}.get(fmt, reports.to_markdown)(table)
        if out is None:
            click.echo(text, nl=False)
        else:
            write_text(out, text)
            click.echo(f"Wrote {out}", err=True)
    if chart is not None:
        reports.chart(table, chart, kind)
        click.echo(f"Wrote {chart}", err=True)


@report.command("frequencies")
@click.option("--by", metavar="transcript|speaker|ATTRIBUTE",
              help="Count per transcript, speaker, or a speaker attribute such as role.")
@_table_options
@study_options
def frequencies(ctx: _Context, by: str | None, codes: tuple[str, ...], theme: str | None,
                where: tuple[str, ...], fmt: str, out: Path | None, chart: Path | None) -> None:
    """Per code: coded segments, transcripts and speakers (or segments per --by group).
    --chart draws bars."""
    from coder.reports import frequencies as run

    _show(run(_data(ctx, codes, theme, where), by), fmt, out, chart, "bars")


@report.command("cooccurrence")
@_table_options
@study_options
def cooccurrence(ctx: _Context, codes: tuple[str, ...], theme: str | None,
                 where: tuple[str, ...], fmt: str, out: Path | None,
                 chart: Path | None) -> None:
    """Segments coded with both codes, for every pair (the diagonal: with the code).
    --chart draws a heat map."""
    from coder.reports import cooccurrence as run

    _show(run(_data(ctx, codes, theme, where)), fmt, out, chart, "heatmap")


@report.command("matrix")
@click.option("--rows", "rows_", type=click.Choice(["codes"]), default="codes",
              show_default=True, help="What the rows are.")
@click.option("--cols", required=True, metavar="transcript|speaker|ATTRIBUTE",
              help="Columns: the values of this speaker attribute (e.g. role, site), or "
                   "transcript, or speaker.")
@_table_options
@study_options
def matrix(ctx: _Context, rows_: str, cols: str, codes: tuple[str, ...], theme: str | None,
           where: tuple[str, ...], fmt: str, out: Path | None, chart: Path | None) -> None:
    """Codes by the values of an attribute: each cell the number of coded segments and the
    most typical one as an example quote. --chart draws a heat map of the counts."""
    from coder.reports import matrix as run

    _show(run(_data(ctx, codes, theme, where), cols), fmt, out, chart, "heatmap")


def register(group: click.Group) -> None:
    """Add `coder quotes` and `coder report` to the `coder` group."""
    group.add_command(quotes)
    group.add_command(report)
