"""The workbench's suggester, in a process of its own.

Training reads the whole study and runs spaCy's matcher, which holds Python's GIL for
seconds at a time: in a thread of the workbench that freezes every key until it is done.
Here the :class:`~coder.learn.suggest.Suggester` lives in a child process (forked from a
small server that has the learning modules imported, so a new one starts in milliseconds),
and the workbench asks it through a pipe, from its workers: waiting on a pipe releases the
GIL, so the keys stay instant however long the model takes.

Only the public calls of :mod:`coder.learn` are used (``Suggester.load``, ``update``,
``suggest``, ``next_suggested``, ``next_uncertain``). Messages are Python objects sent
between two processes of this program over a private pipe; nothing comes from the study.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from coder.errors import CoderError

_CALLS = frozenset({"update", "suggest", "next_suggested", "next_uncertain", "state"})
_PRELOAD = ["coder.learn.suggest", "coder.learn.model", "coder.store.db"]


def _context() -> Any:
    """forkserver where there is one (Linux, macOS): children fork from a clean server
    with the learning modules imported; elsewhere spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def start_server() -> None:
    """Start the fork server (and multiprocessing's resource tracker) now, while this
    process still has its real stderr: a running Textual app has replaced ``sys.stderr``
    with an object without a file descriptor, which they cannot start with. Cheap: the
    server imports the learning modules in its own process."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    _context()
    saved = sys.stderr
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        sys.stderr = sys.__stderr__
    try:
        forkserver.ensure_running()
    finally:
        sys.stderr = saved


def _serve(conn: Connection, db_path: str, coder: str, nlp_model: str) -> None:
    """The child: load the suggester, then answer calls until the pipe closes."""
    from coder.learn.model import LearnSettings
    from coder.learn.suggest import Suggester
    from coder.store.db import Store

    try:
        store = Store(Path(db_path), coder=coder, command="suggest")
        suggester = Suggester.load(store, coder, LearnSettings(nlp_model=nlp_model))
    except BaseException as exc:  # tell the workbench why, then stop
        conn.send((False, f"{type(exc).__name__}: {exc}"))
        return
    conn.send((True, None))
    with store:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            name, args, kwargs = message
            try:
                if name == "update":
                    report = suggester.update(store)
                    while report.pending:
                        report = suggester.update(store)
                    value: Any = None
                elif name == "suggest":
                    value = suggester.suggest(*args, store=store, **kwargs)
                elif name == "state":  # what the panel shows beside the suggestions
                    value = {"left_out": suggester.left_out(),
                             "positives": int(suggester.labels.positive.sum()),
                             "notes": {c["id"]: suggester.confidence_note(c["id"])
                                       for c in suggester.corpus.codes}}
                else:
                    value = getattr(suggester, name)(*args, **kwargs)
            except Exception as exc:
                conn.send((False, f"{type(exc).__name__}: {exc}"))
                continue
            conn.send((True, value))


class SuggestProcess:
    """A handle on the suggester's process. Every call blocks the calling thread (call it
    from a worker) and returns what the suggester's method returns."""

    def __init__(self, db_path: Path, coder: str, nlp_model: str = "") -> None:
        self.coder = coder
        start_server()
        context = _context()
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, name="coder-suggester",
                                        args=(child, str(db_path), coder, nlp_model),
                                        daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._ready = False
        self._state: dict[str, Any] = {"left_out": 0, "notes": {}}

    def wait_ready(self) -> None:
        """Block until the model is trained (raises ``CoderError`` if it could not be)."""
        with self._lock:
            if self._ready:
                return
            ok, value = self._receive()
            if not ok:
                raise CoderError(f"suggestions unavailable: {value}")
            self._ready = True
        self.refresh_state()

    def refresh_state(self) -> None:
        """Fetch what the UI thread may ask without waiting (left_out, confidence_note)."""
        self._state = self.call("state")

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if name not in _CALLS:
            raise ValueError(f"not a suggester call: {name}")
        self.wait_ready()
        with self._lock:
            try:
                self._conn.send((name, args, kwargs))
            except (OSError, ValueError) as exc:
                raise CoderError("suggestions unavailable: the suggester stopped") from exc
            ok, value = self._receive()
        if not ok:
            raise CoderError(f"suggestions unavailable: {value}")
        return value

    def _receive(self) -> tuple[bool, Any]:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            return False, "the suggester stopped"

    # -- the suggester's public calls ------------------------------------------------------
    def suggest(self, segment_ids: list[int], **kwargs: Any) -> dict[int, list]:
        return self.call("suggest", list(segment_ids), **kwargs)

    def update(self) -> None:
        self.call("update")
        self.refresh_state()

    def left_out(self) -> int:
        """Segments left out of suggestions as interviewers' turns (as of the last update)."""
        return int(self._state.get("left_out", 0))

    def positives(self) -> int:
        """How many positive examples the model learnt from (as of the last update)."""
        return int(self._state.get("positives", 0))

    def confidence_note(self, code_id: int) -> str:
        """Why a code's suggestions are not confident (as of the last update)."""
        return str(self._state.get("notes", {}).get(code_id, ""))

    def next_suggested(self, transcript_id: int, after_ordinal: int,
                       reviewed_ids: list[int]) -> int | None:
        return self.call("next_suggested", transcript_id, after_ordinal, list(reviewed_ids))

    def next_uncertain(self, transcript_id: int, reviewed_ids: list[int]) -> int | None:
        return self.call("next_uncertain", transcript_id, list(reviewed_ids))

    def close(self) -> None:
        """Stop the process without waiting for it: it only reads the study, so a model
        still training is simply dropped."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        self._conn.close()
        process = self._process

        def reap() -> None:
            process.join(timeout=0.2)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2)

        threading.Thread(target=reap, name="coder-suggester-reaper", daemon=True).start()
