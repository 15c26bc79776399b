"""Memos: `coder memo set|show|list`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from coder.commands.base import FORMATS, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import echo as _echo
from coder.commands.base import local_time as _local_time
from coder.commands.base import print_json as _json
from coder.commands.base import table as _table
from coder.errors import CoderError


@click.group(cls=_Group)
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



def register(group: click.Group) -> None:
    """Add this module's commands to the root `coder` group."""
    group.add_command(memo)
