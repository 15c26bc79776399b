"""Opening the study database: pragmas, migrations, transactions and the event log."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.store.schema import MIGRATIONS, SCHEMA_VERSION


def now() -> str:
    """The current time as an ISO 8601 UTC string (second precision)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """One open study database.

    All writes happen inside :meth:`transaction`, which is one SQLite transaction
    and one *batch* in the event log: a failure anywhere rolls the whole command back.
    """

    def __init__(self, path: str | Path, *, coder: str = "coder", command: str = "",
                 read_only: bool = False):
        self.path = Path(path)
        self.coder = coder
        self.command = command
        self.read_only = read_only
        self._batch: int | None = None
        self._before_commit: dict[str, Callable[[], None]] = {}
        if read_only:
            self.conn = _open_read_only(self.path)
            if self.version != SCHEMA_VERSION:
                self.conn.close()
                raise CoderError(f"the study is read-only and its database needs an upgrade "
                                 f"(schema {self.version}, this coder writes "
                                 f"{SCHEMA_VERSION}): open it once where it can be written",
                                 path=self.path)
            return
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=10)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise database_error(exc, self.path) from exc
        if str(self.path) != ":memory:" and mode.lower() != "wal":
            raise CoderError(f"cannot switch the database to WAL mode ({mode})", path=self.path)
        self.conn = conn
        self.migrate()

    @functools.cached_property
    def db(self):
        """The same connection through sqlite-utils (imported on first use: it is slow to load)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Bring the schema up to :data:`SCHEMA_VERSION`, one transaction per migration."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise CoderError(
                f"the database has schema version {current}, newer than this coder "
                f"understands ({SCHEMA_VERSION}); upgrade coder",
                path=self.path,
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(MIGRATIONS[version - 1]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    # -- transactions and the event log ----------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._batch is not None

    @contextlib.contextmanager
    def transaction(self, command: str | None = None) -> Iterator[Store]:
        """Run a block as one transaction and one event batch; nested calls join the outer one."""
        if self._batch is not None:
            yield self
            return
        if self.read_only:
            raise CoderError("the study database is read-only here: coder can show the study "
                             "but not change it (check the permissions of the file and its "
                             "folder)", path=self.path)
        previous = self.command
        if command is not None:
            self.command = command
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT coalesce(max(batch), 0) + 1 FROM events").fetchone()
            self._batch = row[0]
            yield self
            while self._before_commit:
                self._before_commit.pop(next(iter(self._before_commit)))()
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._batch = None
            self._before_commit.clear()
            self.command = previous

    def before_commit(self, key: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, just before the current transaction commits."""
        if self._batch is None:
            raise RuntimeError("before_commit outside a transaction")
        self._before_commit.setdefault(key, action)

    def log(self, action: str, **payload: Any) -> None:
        """Append one change to the event log (inside the current transaction)."""
        if self._batch is None:
            raise RuntimeError("Store.log outside a transaction")
        self.conn.execute(
            "INSERT INTO events (batch, ts, coder, command, action, payload) VALUES (?,?,?,?,?,?)",
            (self._batch, now(), self.coder, self.command, action, json.dumps(payload)),
        )

    # -- reading ---------------------------------------------------------------------------
    def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Run a writing statement; only allowed inside :meth:`transaction`."""
        if self._batch is None:
            raise RuntimeError("write outside a transaction")
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        if self._batch is None:
            raise RuntimeError("write outside a transaction")
        return self.conn.executemany(sql, params)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def database_error(exc: sqlite3.Error, path: str | Path | None) -> CoderError:
    """What an SQLite error means for the user, naming the database file."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        reason = ("the study database is busy: another coder (or program) is writing to it; "
                  "try again in a moment")
    elif "readonly" in lowered or "read-only" in lowered:
        reason = ("the study database is read-only: coder can show the study but not change "
                  "it (check the permissions of the file and its folder)")
    elif "full" in lowered:
        reason = "the disk is full: nothing was changed; free some space and try again"
    elif "unable to open" in lowered or "cannot open" in lowered:
        reason = "cannot open the study database (does the folder exist and can you write it?)"
    elif "i/o error" in lowered:
        reason = "the disk reported an error while reading or writing the study database"
    elif "not a database" in lowered:
        reason = ("cannot open the study database: the file is not an SQLite database "
                  "(overwritten or damaged); `coder backup list` shows the snapshots, and "
                  "`coder backup restore` puts the newest back")
    elif isinstance(exc, sqlite3.OperationalError):
        reason = f"the study database refused the command ({text})"
    else:
        reason = ("the study database is damaged; nothing more was changed. Check it with "
                  "`coder check` (SQLite's integrity_check); recover with `coder backup "
                  "restore --replay` (the newest snapshot, then the coding done since, "
                  "from the event log)")
    return CoderError(f"{reason} [{text}]", path=path)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: ``mode=ro``, or ``immutable`` when SQLite cannot
    even make its shared-memory file beside a WAL database (a read-only folder)."""
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True,
                                   isolation_level=None, timeout=10)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            error = exc
    raise database_error(error, path) from error


def writable(path: Path) -> bool:
    """Whether coder may write the database at ``path`` (and its folder, for the WAL)."""
    import os

    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
