"""Opening the study database: pragmas, migrations, transactions and the event log."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.store.schema import MIGRATIONS, SCHEMA_VERSION


def now() -> str:
    """The current time as an ISO 8601 UTC string (second precision)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class WouldWrite(Exception):
    """Raised inside :meth:`Store.probe` at the first write: the block needs the write lock."""


# Reads wait up to BUSY_MS for a lock (rare in WAL mode). Taking the write lock waits in
# steps of WAIT_STEP_MS, reporting the wait after the first, and gives up after PATIENCE_S.
BUSY_MS = 10000
WAIT_STEP_MS = 1000
PATIENCE_S = 600.0


class Store:
    """One open study database.

    All writes happen inside :meth:`transaction`, which is one SQLite transaction
    and one *batch* in the event log: a failure anywhere rolls the whole command back.
    """

    def __init__(self, path: str | Path, *, coder: str = "coder", command: str = "",
                 read_only: bool = False,
                 on_wait: Callable[[float | None], None] | None = None):
        self.path = Path(path)
        self.coder = coder
        self.command = command
        self.read_only = read_only
        # Told the seconds waited while another process holds the write lock, then None.
        self.on_wait = on_wait
        self.patience = PATIENCE_S
        self.os_user = os_user()
        self._probing = False
        self._batch: int | None = None
        self._before_commit: dict[str, Callable[[], object]] = {}
        if read_only:
            self.conn = _open_read_only(self.path)
            if self.version != SCHEMA_VERSION:
                self.conn.close()
                raise CoderError(f"the study is read-only and its database needs an upgrade "
                                 f"(schema {self.version}, this coder writes "
                                 f"{SCHEMA_VERSION}): open it once where it can be written",
                                 path=self.path)
            return
        if str(self.path) != ":memory:":
            self._check_files()
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None,
                                   timeout=BUSY_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise database_error(exc, self.path) from exc
        if str(self.path) != ":memory:" and mode.lower() != "wal":
            raise CoderError(f"cannot switch the database to WAL mode ({mode})", path=self.path)
        self.conn = conn
        self.migrate()

    def database_files(self) -> list[Path]:
        """The database and the two files SQLite keeps beside it in WAL mode."""
        return [self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))]

    def _check_files(self) -> None:
        """Say which file is not writable (and the fix) before SQLite fails on it obscurely;
        create a new database shared like its folder (its -wal and -shm files follow it)."""
        from coder.sharing import create_shared_file, not_writable

        problem = not_writable(self.database_files())
        if problem is not None:
            raise problem
        if not self.path.exists():
            try:
                create_shared_file(self.path)
            except OSError as exc:
                raise CoderError(f"cannot create the study database ({exc.strerror or exc})",
                                 path=self.path) from exc

    def explain(self, exc: sqlite3.OperationalError) -> CoderError | None:
        """A one-line error for a database that turned out not writable, naming the file."""
        from coder.sharing import not_writable

        if "readonly" in str(exc) or "unable to open" in str(exc):
            return not_writable(self.database_files())
        return None

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
            self._begin_write()
            if self.version >= version:  # another process migrated while we waited
                self.conn.execute("COMMIT")
                continue
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
        if self._probing:
            self.conn.execute("BEGIN")  # a read: the first write raises WouldWrite
        else:
            self._begin_write()
        try:
            row = self.conn.execute("SELECT coalesce(max(batch), 0) + 1 FROM events").fetchone()
            self._batch = row[0]
            yield self
            while self._before_commit:
                self._before_commit.pop(next(iter(self._before_commit)))()
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and (problem := self.explain(exc)):
                raise problem from exc
            raise
        finally:
            self._batch = None
            self._before_commit.clear()
            self.command = previous

    def _begin_write(self) -> None:
        """BEGIN IMMEDIATE: take the write lock, waiting (and saying so) while another
        process holds it; gives up after :attr:`patience` seconds."""
        start = time.monotonic()
        waited = False
        busy_ms = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        step = max(1, min(busy_ms, WAIT_STEP_MS, int(self.patience * 1000)))
        self.conn.execute(f"PRAGMA busy_timeout = {step}")
        try:
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    elapsed = time.monotonic() - start
                    if not is_busy(exc) or elapsed >= self.patience:
                        problem = self.explain(exc)
                        if problem is not None:
                            raise problem from exc
                        raise
                    waited = True
                    if self.on_wait is not None:
                        self.on_wait(elapsed)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if waited and self.on_wait is not None:
                self.on_wait(None)

    @contextlib.contextmanager
    def probe(self) -> Iterator[Store]:
        """Run a block as a read only: nothing is locked, and the first write (through
        :meth:`execute`, :meth:`log` or the connection itself) raises :class:`WouldWrite`.

        For commands that usually find nothing to do (the sync when a workbench opens):
        check under a read, take the write lock only when there is something to write.
        """
        if self._batch is not None or self._probing:
            raise RuntimeError("probe inside a transaction")
        self._probing = True
        self.conn.execute("PRAGMA query_only = ON")
        try:
            yield self
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc):  # a write that bypassed execute()
                raise WouldWrite(str(exc)) from exc
            raise
        finally:
            self._probing = False
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("PRAGMA query_only = OFF")

    def will_write(self) -> None:
        """Say a write is coming before doing costly work for it: inside :meth:`probe` this
        raises :class:`WouldWrite` at once."""
        if self._probing:
            raise WouldWrite("")

    @property
    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``):
        a cheap way to notice that others wrote."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def before_commit(self, key: str, action: Callable[[], object]) -> None:
        """Run ``action`` once, just before the current transaction commits."""
        if self._batch is None:
            raise RuntimeError("before_commit outside a transaction")
        self._before_commit.setdefault(key, action)

    def log(self, action: str, **payload: Any) -> None:
        """Append one change to the event log (inside the current transaction)."""
        if self._batch is None:
            raise RuntimeError("Store.log outside a transaction")
        if self._probing:
            raise WouldWrite(action)
        self.conn.execute(
            "INSERT INTO events (batch, ts, coder, os_user, command, action, payload) "
            "VALUES (?,?,?,?,?,?,?)",
            (self._batch, now(), self.coder, self.os_user, self.command, action,
             json.dumps(payload)),
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

    def one_existing(self, sql: str, params: tuple | dict = ()) -> dict[str, Any]:
        """The first row of a query for a row that must exist (just written, or held by a
        foreign key); its absence is a fault, not a user error."""
        row = self.one(sql, params)
        if row is None:
            raise LookupError(f"no row for {sql!r} {params!r}")
        return row

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def set_busy_timeout(self, ms: int) -> None:
        """How long one statement waits for another writer's lock before it reports busy."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(ms)}")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Run a writing statement; only allowed inside :meth:`transaction`."""
        if self._batch is None:
            raise RuntimeError("write outside a transaction")
        if self._probing:
            raise WouldWrite(sql)
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        if self._batch is None:
            raise RuntimeError("write outside a transaction")
        if self._probing:
            raise WouldWrite(sql)
        return self.conn.executemany(sql, params)


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made."""
    if cursor.lastrowid is None:
        raise LookupError("the statement inserted no row")
    return cursor.lastrowid


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (as opposed to a damaged or read-only database)."""
    return "locked" in str(exc) or "busy" in str(exc)


def os_user() -> str:
    """The operating-system account running this process (recorded beside the coder name):
    the real user id's name, not $USER, which anyone can set."""
    import getpass
    import os

    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


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
