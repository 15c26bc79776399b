"""What the study holds: `coder status`, `coder transcripts`, `coder segments` and
`coder search`."""

from __future__ import annotations

from typing import Any

import click

from coder.commands.base import FORMATS, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import echo as _echo
from coder.commands.base import parse_ranges as _parse_ranges
from coder.commands.base import print_json as _json
from coder.commands.base import span_words as _span_words
from coder.commands.base import table as _table
from coder.formatting import clock
from coder.formatting import plural as n_


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(status)
    group.add_command(transcripts)
    group.add_command(segments)
    group.add_command(search)
