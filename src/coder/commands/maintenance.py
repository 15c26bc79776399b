"""`coder backup list|create|restore` and `coder check [--repair]`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from coder.commands.base import Context as _Context
from coder.commands.base import Group as _Group
from coder.commands.base import echo as _echo
from coder.commands.base import print_json as _json
from coder.commands.base import study_options
from coder.commands.base import table as _table
from coder.errors import CoderError


@click.group(cls=_Group)
def backup() -> None:
    """Snapshots of the study database (taken before destructive commands and daily).

    They are kept in .coder-backups/ in the study folder (git ignores it), the newest 20.
    """


@backup.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def backup_list(ctx: _Context, fmt: str) -> None:
    """The snapshots, newest first."""
    from coder.store.backup import FOLDER, list_snapshots

    snapshots = list_snapshots(ctx.study.db_path)
    if fmt == "json":
        return _json([{"name": s.name, "taken": s.taken.isoformat(), "reason": s.reason,
                       "bytes": s.size} for s in snapshots])
    if not snapshots:
        _echo(f"No snapshots yet in {FOLDER}/ (`coder backup create` makes one).")
        return
    _table(f"Snapshots in {ctx.study.root / FOLDER}", ["name", "taken", "before", "size"],
           [[s.name, s.taken.astimezone().strftime("%Y-%m-%d %H:%M:%S"), s.reason,
             f"{s.size / 2**20:.1f} MB"] for s in snapshots])


@backup.command("create")
@study_options
def backup_create(ctx: _Context) -> None:
    """Take a snapshot now."""
    from coder.store.backup import snapshot

    made = snapshot(ctx.store("backup create"), "manual")
    _echo(f"Snapshot {made.name} ({made.size / 2**20:.1f} MB)")


@backup.command("restore")
@click.argument("name", required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--replay", is_flag=True, help="Then apply again the codings and reviewed "
              "marks the current (damaged) database's event log holds after the snapshot.")
@study_options
def backup_restore(ctx: _Context, name: str | None, yes: bool, replay: bool) -> None:
    """Put snapshot NAME (default: the newest) back as the study database.

    The database as it is now is snapshotted first, so a restore can itself be undone by
    restoring that snapshot. With --replay, coding work done after the snapshot (codings and
    reviewed marks, read from the event log of the database being replaced, as far as it
    can be read) is applied again; other changes after it are listed.
    """
    from coder.store import backup as backups
    from coder.store.backup import find_snapshot, restore

    chosen = find_snapshot(ctx.study.db_path, name)
    if not yes:
        if not sys.stdin.isatty():
            raise CoderError(f"restoring {chosen.name} replaces the study database; pass "
                             "--yes to confirm")
        click.confirm(f"Replace the study database with {chosen.name}?", abort=True)
    store, aside = _open_even_if_damaged(ctx)
    events: list = []
    unreadable = ""
    if replay:
        events, unreadable = backups.events_after(aside or ctx.study.db_path,
                                                  backups.last_event(chosen.path))
    before = restore(store, chosen, keep_current=aside is None)
    _echo(f"Restored {chosen.name}" + (f"; the database as it was is {before.name}"
                                       if before else ""))
    if replay:
        done = backups.replay(store, events)
        _echo(f"Replayed {done.applied} coding and reviewed-mark change(s) made after the "
              "snapshot" + (f"; {len(done.skipped)} were already so or could not apply"
                            if done.skipped else ""))
        if done.not_replayed:
            _echo("Not replayed (redo them by hand): " + ", ".join(
                f"{n} {action}" for action, n in sorted(done.not_replayed.items())))
        if unreadable:
            _echo(f"The event log could not be read past that point ({unreadable}): later "
                  "changes are lost")


def _open_even_if_damaged(ctx: _Context) -> tuple[Any, Path | None]:
    """The study store, and where the database went if it was too damaged to open (it is
    moved into the snapshot folder and a fresh one takes its place for the restore)."""
    from coder.store.db import Store

    try:
        return ctx.store("backup restore"), None
    except CoderError as exc:
        if "damaged" not in str(exc) and "not an SQLite database" not in str(exc):
            raise
    from coder.store.backup import folder_for

    path = ctx.study.db_path
    folder_for(path).mkdir(exist_ok=True)  # out of git's way, beside the snapshots
    aside = folder_for(path) / f"{path.name}.damaged-{datetime.now():%Y%m%dT%H%M%S}"
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    _echo(f"Moved the damaged database aside to {aside}")
    store = Store(path, coder=ctx.coder, command="backup restore")
    click.get_current_context().call_on_close(store.close)
    return store, aside


@click.command("check")
@click.option("--repair", is_flag=True, help="Repair what can be repaired (a snapshot is "
              "taken first).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def check(ctx: _Context, repair: bool, fmt: str) -> None:
    """Check the study database: integrity, foreign keys, the event log, the search index.

    Exits 1 when a problem remains. --repair rebuilds indexes and the search index and
    deletes rows whose parent is gone (each deletion is logged); damage to the database's
    pages cannot be repaired in place: restore a snapshot (`coder backup restore`).
    """
    from coder.store import health as checks
    from coder.store.backup import snapshot

    try:
        store = ctx.store("check --repair" if repair else "")
    except CoderError as exc:
        if "damaged" not in str(exc):
            raise
        _echo(f"Problem (integrity): {exc.reason}")
        raise CoderError("the database is too damaged to open; restore a snapshot with "
                         "`coder backup restore` (`coder backup list` shows them)",
                         path=ctx.study.db_path) from None
    health = checks.check(store)
    repaired: list[str] = []
    if repair and any(f.repairable for f in health.findings):
        taken = snapshot(store, "before-repair")
        repaired = checks.repair(store, health)
        repaired.append(f"snapshot of the database before the repair: {taken.name}")
        health = checks.check(store)
    if fmt == "json":
        _json({"ok": health.ok, "checked": health.checked, "repaired": repaired,
               "problems": [f.__dict__ for f in health.findings]})
    else:
        for line in repaired:
            _echo(f"Repaired: {line}")
        for finding in health.findings:
            _echo(f"Problem ({finding.check}): {finding.problem}"
                  + (" [--repair fixes this]" if finding.repairable and not repair else ""))
        if health.ok:
            _echo(f"{ctx.study.db_path}: ok ({', '.join(health.checked)})")
    if not health.ok:
        unrepairable = [f for f in health.findings if not f.repairable]
        raise CoderError(f"{len(health.findings)} problem(s) found"
                         + ("; restore the newest snapshot and replay the coding done since "
                            "with `coder backup restore --replay`" if unrepairable
                            else "; `coder check --repair` repairs them"),
                         path=ctx.study.db_path)


def register(group: click.Group) -> None:
    group.add_command(backup)
    group.add_command(check)
