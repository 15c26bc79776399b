"""Rolling snapshots of the study database, taken with SQLite's online backup API.

Snapshots live in ``.coder-backups/`` in the study folder, which holds its own
``.gitignore`` (``*``) so git never sees them, whatever the study's own ignore file says.
One is taken before each destructive command (``remove``, ``codebook load --prune``,
``merge``, ``import --replace``, ``check --repair``, ``backup restore``) and one a day while
coding; the newest :data:`KEEP` are kept. A snapshot is a complete SQLite database,
consistent even while others write (the backup API copies one read transaction).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coder.errors import CoderError
from coder.files import write_atomic, write_text
from coder.store.db import Store, database_error

FOLDER = ".coder-backups"
KEEP = 20
DAILY = timedelta(hours=24)
_NAME = re.compile(r"^coder-(\d{8}T\d{6}(?:\.\d+)?Z)-([a-z0-9-]+)\.db$")


@dataclass
class Snapshot:
    path: Path
    taken: datetime
    reason: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def folder_for(db_path: Path) -> Path:
    return Path(db_path).resolve().parent / FOLDER


def list_snapshots(db_path: Path) -> list[Snapshot]:
    """Snapshots of the database at ``db_path``, newest first."""
    folder = folder_for(db_path)
    out = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                stamp = datetime.strptime(match.group(1).split(".")[0], "%Y%m%dT%H%M%S")
                out.append(Snapshot(path, stamp.replace(tzinfo=UTC), match.group(2)))
    return sorted(out, key=lambda s: s.name, reverse=True)


def snapshot(store: Store, reason: str) -> Snapshot:
    """Copy the open database to a new snapshot; returns it. Old ones beyond KEEP go."""
    reason = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-") or "manual"
    folder = folder_for(store.path)
    if not (folder / ".gitignore").exists():
        write_text(folder / ".gitignore", "*\n")
    now = datetime.now(UTC)
    path = folder / f"coder-{now.strftime('%Y%m%dT%H%M%S.%f')}Z-{reason}.db"

    def copy(tmp: Path) -> None:
        target = sqlite3.connect(str(tmp))
        try:
            store.conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()

    try:
        write_atomic(path, copy)
    except sqlite3.Error as exc:
        raise database_error(exc, store.path) from exc
    for old in list_snapshots(store.path)[KEEP:]:
        old.path.unlink(missing_ok=True)
    return Snapshot(path, now, reason)


def daily(store: Store) -> Snapshot | None:
    """A snapshot if the newest is more than a day old (or there is none)."""
    if store.read_only:
        return None
    newest = next(iter(list_snapshots(store.path)), None)
    if newest is not None and datetime.now(UTC) - newest.taken < DAILY:
        return None
    return snapshot(store, "daily")


def find_snapshot(db_path: Path, name: str | None) -> Snapshot:
    """The snapshot called ``name`` (or a unique prefix of it); the newest without one."""
    snapshots = list_snapshots(db_path)
    if not snapshots:
        raise CoderError(f"no snapshots yet in {FOLDER}/ (`coder backup create` makes one)",
                         path=db_path)
    if name is None:
        return snapshots[0]
    found = [s for s in snapshots if s.name == name or s.name.startswith(name)]
    if len(found) != 1:
        raise CoderError(f"{'no' if not found else 'more than one'} snapshot matches "
                         f"{name!r} (`coder backup list` shows them)", path=db_path)
    return found[0]


def restore(store: Store, chosen: Snapshot, *, keep_current: bool = True) -> Snapshot | None:
    """Put ``chosen`` back as the study database; the current one is snapshotted first
    (unless ``keep_current`` is off: a damaged database already moved aside)."""
    try:
        source = sqlite3.connect(f"{chosen.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = source.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise CoderError(f"the snapshot is damaged too ({ok})", path=chosen.path)
            before = snapshot(store, "before-restore") if keep_current else None
            source.backup(store.conn)
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise database_error(exc, chosen.path) from exc
    return before


@contextlib.contextmanager
def before(store: Store, command: str) -> Iterator[Snapshot | None]:
    """A snapshot before a destructive command, dropped again if the command fails (a failed
    command changes nothing, so the snapshot would only be the same database twice)."""
    if store.read_only:
        yield None
        return
    taken = snapshot(store, f"before-{command}")
    try:
        yield taken
    except BaseException:
        taken.path.unlink(missing_ok=True)
        raise


@dataclass
class Replay:
    applied: int = 0
    skipped: list[str] = field(default_factory=list)
    not_replayed: dict[str, int] = field(default_factory=dict)
    redo: list[str] = field(default_factory=list)  # what to do again by hand, in words


def events_after(db_path: Path, last_id: int) -> tuple[list[tuple[str, dict]], str]:
    """The events of the database at ``db_path`` after ``last_id`` that can still be read,
    and what stopped the reading ('' if nothing did)."""
    import json

    out: list[tuple[str, dict]] = []
    try:
        conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return out, str(exc)
    try:
        for action, payload in conn.execute(
                "SELECT action, payload FROM events WHERE id > ? ORDER BY id", (last_id,)):
            try:
                out.append((action, json.loads(payload)))
            except (TypeError, ValueError):
                out.append((action, {}))
    except sqlite3.Error as exc:
        return out, str(exc)
    finally:
        conn.close()
    return out, ""


def last_event(db_path: Path) -> int:
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    finally:
        conn.close()


def replay(store: Store, events: list[tuple[str, dict]]) -> Replay:
    """Make the changes in ``events`` again (one logged transaction), each through the undo
    machinery of :mod:`coder.store.history` (code merges through :func:`merge_code`); what
    the log cannot make again (imports, study merges, …) is counted and said in words."""
    from coder.store.codes import merge_code
    from coder.store.history import _Inverter, forward

    result = Replay()
    inverter = _Inverter(store)
    joined: list[dict] = []  # memos the merge below joins: their edit (its time) comes after
    with store.transaction("backup restore"):
        for number, (action, payload) in enumerate(events):
            if action.startswith("history."):
                continue  # undo markers: their changes follow
            if _merged_memo(events, number):
                joined.append(payload)
                continue
            try:
                if action == "code.merge":
                    merge_code(store, payload["source"], payload["into"])
                    result.applied += 1
                    for memo in joined:  # the merged text, at the time the merge wrote it
                        inverter.invert("memo.edit", dict(memo, old=memo["new"],
                                                          old_updated_at=memo["updated_at"]))
                    joined.clear()
                    continue
                made = forward(store, action, payload)
                if made is None:
                    result.not_replayed[action] = result.not_replayed.get(action, 0) + 1
                    if (words := _by_hand(action, payload)) and words not in result.redo:
                        result.redo.append(words)
                    continue
                before = len(inverter.logged), len(inverter.skipped)
                inverter.invert(*made)
                result.applied += (len(inverter.logged), len(inverter.skipped)) != before
            except (KeyError, TypeError, CoderError, sqlite3.IntegrityError) as exc:
                result.skipped.append(f"{action}: {exc}")
    result.skipped += inverter.skipped
    return result


def _merged_memo(events: list[tuple[str, dict]], number: int) -> bool:
    """Whether event ``number`` is a code memo joined by the code merge it comes before."""
    action, payload = events[number]
    if action != "memo.edit" or payload.get("kind") != "code":
        return False
    for later, p in events[number + 1:]:
        if later == "code.merge":
            return p.get("into_id") == payload.get("target_id")
        if later != "memo.edit":
            return False
    return False


def _by_hand(action: str, p: dict) -> str:
    """What to do again by hand for a change the log cannot make again."""
    if action == "transcript.import":
        return f"import {p.get('source_path') or p.get('name')} again"
    if action == "transcript.replace":
        return f"import transcript #{p.get('transcript_id')} again with --replace"
    if action == "transcript.remove":
        return f"remove {p.get('name')} again"
    if action == "study.merge":
        return f"merge {p.get('source')} again"
    if action == "consensus.auto":
        return f"reconcile {p.get('consensus')} again (`coder reconcile`)"
    if action == "code.delete":
        return f"load the codebook again with --prune (it deleted {p.get('name')!r})"
    return ""
