"""Recordings: `coder media link|unlink|list` and `coder play TRANSCRIPT SEGMENT`."""

from __future__ import annotations

from pathlib import Path

import click

from coder.commands.base import FORMATS, study_options
from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import print_json as _json
from coder.commands.base import table as _table


@click.group("media", cls=_Group)
def media() -> None:
    """Link transcripts to their recordings (never copied into the study)."""


@media.command("link")
@click.argument("transcript")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@study_options
def media_link(ctx: _Context, transcript: str, file: Path) -> None:
    """Link TRANSCRIPT to the recording FILE (audio or video).

    The path is stored relative to the study when FILE is inside it, else absolute; the
    file is not copied. A link comes before `media:` in the front matter and before a
    recording of the same name beside the transcript. `coder undo` takes it back.
    """
    from coder.media.find import link_media

    found = link_media(ctx.store("media link"), ctx.study.root, transcript, file)
    assert found is not None
    click.echo(f"Linked {transcript} to {found.stored} ({found.kind})")


@media.command("unlink")
@click.argument("transcript")
@study_options
def media_unlink(ctx: _Context, transcript: str) -> None:
    """Remove TRANSCRIPT's link (a recording of the same name is still found)."""
    from coder.media.find import link_media

    found = link_media(ctx.store("media unlink"), ctx.study.root, transcript, None)
    rest = f"; it now plays {found.stored} ({found.how})" if found else ""
    click.echo(f"Unlinked {transcript}{rest}")


def media_rows(ctx: _Context) -> list[dict]:
    from coder.media.find import all_media
    from coder.store.transcripts import list_transcripts

    store = ctx.store()
    found = all_media(store, ctx.study.root)
    out = []
    for row in list_transcripts(store):
        item = found.get(row["id"])
        out.append({"name": row["name"], "media": item.stored if item else None,
                    "media_kind": item.kind if item else None,
                    "media_found_by": item.how if item else None,
                    "media_exists": item.exists if item else None})
    return out


@media.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@study_options
def media_list(ctx: _Context, fmt: str) -> None:
    """Each transcript's recording: the file, how it was found, whether it is there."""
    rows = media_rows(ctx)
    if fmt == "json":
        return _json(rows)
    _table("Recordings", ["transcript", "media", "found by", "there"],
           [[r["name"], r["media"] or "—", r["media_found_by"] or "",
             "" if r["media"] is None else "yes" if r["media_exists"] else "MISSING"]
            for r in rows])


@click.command("play")
@click.argument("transcript")
@click.argument("segment", type=int)
@click.option("--video", is_flag=True, help="Show the video in its own window.")
@study_options
def play(ctx: _Context, transcript: str, segment: int, video: bool) -> None:
    """Play SEGMENT of TRANSCRIPT's recording, from its start time to its end (needs mpv).

    Segments without times are placed between their timed neighbours, and the output
    says so. Set CODER_MPV_ARGS for mpv options (e.g. --ao=null without a sound device).
    """
    from coder.formatting import clock_exact
    from coder.media.playback import play_once

    playback = None
    try:
        found, span, playback = play_once(ctx.store(), ctx.study.root, transcript, segment,
                                          video=video, wait=False)
        guess = " (times estimated between timed segments)" if span.estimated else ""
        click.echo(f"Playing {transcript} ¶{segment} {clock_exact(span.start)}–"
                   f"{clock_exact(span.end)}{guess} from {found.stored}")
        player = playback.player
        player.wait_paused((span.end - span.start) / (player.speed or 1.0) + 5.0)
    finally:
        if playback is not None:
            playback.close()


def register(group: click.Group) -> None:
    group.add_command(media)
    group.add_command(play)
