"""A small client of mpv's JSON IPC socket: start mpv, load a file, seek, play a range.

mpv runs idle in the background with ``--input-ipc-server``; commands are JSON lines with a
``request_id``, answered by a line with the same id (event lines in between are skipped).
Audio only by default (``--no-video``); :meth:`Mpv.show_video` opens the video in mpv's own
window. ``CODER_MPV_ARGS`` adds options (e.g. ``--ao=null`` on a machine without sound).
Playing a range stops at its end by mpv's own ``end`` option, set for the range (with
``--keep-open`` mpv pauses there, to the frame); playing on clears it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from coder.errors import CoderError

INSTALL_HINT = ("mpv is not installed: install it to play recordings (Debian/Ubuntu: "
                "sudo apt-get install mpv; macOS: brew install mpv; Windows: mpv.io)")
SPEEDS = (0.75, 0.85, 1.0, 1.15, 1.25, 1.5)
_TIMEOUT = 5.0
_GUARD = '"$0" "$@" </dev/null & m=$!; read _ || :; kill $m 2>/dev/null; wait $m'


def mpv_available() -> bool:
    return shutil.which("mpv") is not None


class _Connection:
    """One connection to the socket: request/response by ``request_id``."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(_TIMEOUT)
        self.sock.connect(path)
        self.buffer = b""
        self.next_id = 0
        self.lock = threading.Lock()

    def request(self, *command: Any) -> Any:
        with self.lock:
            self.next_id += 1
            wanted = self.next_id
            line = json.dumps({"command": list(command), "request_id": wanted}) + "\n"
            self.sock.sendall(line.encode("utf-8"))
            while True:
                while b"\n" not in self.buffer:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("mpv closed the connection")
                    self.buffer += chunk
                raw, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(raw)
                if message.get("request_id") != wanted:
                    continue  # an event, or a late answer
                if message.get("error") not in ("success", None):
                    raise MpvError(f"{command[0]}: {message['error']}")
                return message.get("data")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class MpvError(Exception):
    """mpv refused a command (e.g. a property that is unavailable while nothing plays)."""


class Mpv:
    """One mpv process, started on first use, ended by :meth:`close`."""

    def __init__(self, extra_args: list[str] | None = None):
        env_args = shlex.split(os.environ.get("CODER_MPV_ARGS", ""))
        self.extra_args = [*env_args, *(extra_args or [])]
        self.process: subprocess.Popen[bytes] | None = None
        self.folder: str | None = None
        self.conn: _Connection | None = None
        self.loaded: Path | None = None
        self.video = False

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start mpv idle with an IPC socket (once); CoderError when mpv is not installed."""
        if self.running:
            return
        binary = shutil.which("mpv")
        if binary is None:
            raise CoderError(INSTALL_HINT)
        self.close()
        self.folder = tempfile.mkdtemp(prefix="coder-mpv-")
        sock = os.path.join(self.folder, "mpv.sock")
        args = [binary, "--idle=yes", "--no-terminal", "--no-config", "--keep-open=yes",
                "--pause", f"--input-ipc-server={sock}", "--hr-seek=yes",
                "--force-window=no", "--no-video", "--ytdl=no", "--load-scripts=no",
                *self.extra_args]
        try:
            # mpv runs under a small shell that ends it when our end of its stdin closes:
            # an idle mpv never outlives coder, even when coder is killed.
            self.process = subprocess.Popen(["/bin/sh", "-c", _GUARD, *args],
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise CoderError(f"cannot start mpv ({exc})") from exc
        deadline = time.monotonic() + _TIMEOUT
        while True:
            try:
                self.conn = _Connection(sock)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise CoderError("mpv did not start (try `mpv --idle` in a terminal to "
                                     "see why)") from None
                time.sleep(0.02)
        atexit.register(self.close)  # never leave an idle mpv behind, even after a crash

    def close(self) -> None:
        """End mpv and remove its socket."""
        if self.conn is not None:
            with contextlib.suppress(OSError, ConnectionError, MpvError, ValueError):
                self.conn.request("quit")
            self.conn.close()
            self.conn = None
        if self.process is not None:
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()  # the guard ends mpv if quit did not
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
            atexit.unregister(self.close)
        self.loaded = None

    # -- commands --------------------------------------------------------------------------
    def _request(self, *args: Any) -> Any:
        self.start()
        assert self.conn is not None
        try:
            return self.conn.request(*args)
        except (OSError, ConnectionError, ValueError) as exc:
            self.close()
            raise CoderError(f"lost the connection to mpv ({exc}); the next key starts it "
                             "again") from exc

    def command(self, *args: Any) -> Any:
        """Run an mpv command; CoderError when mpv refuses it."""
        try:
            return self._request(*args)
        except MpvError as exc:
            raise CoderError(f"mpv: {exc}") from exc

    def get(self, name: str) -> Any:
        """A property, or None while it is unavailable (nothing loaded, say)."""
        try:
            return self._request("get_property", name)
        except MpvError:
            return None

    def set(self, name: str, value: Any) -> None:
        self.command("set_property", name, value)

    def load(self, path: Path) -> None:
        """Load ``path`` (paused), unless it is the file already loaded."""
        path = Path(path)
        if self.running and self.loaded == path:
            return
        from coder.media.find import is_file

        if not is_file(path):
            raise CoderError("the recording is not there (moved? `coder media link` it "
                             "again)", path=path)
        self.set("end", "none")
        self.command("loadfile", str(path), "replace")
        deadline = time.monotonic() + _TIMEOUT
        # loaded once it knows its duration and where it is (seeking earlier fails)
        while self.get("duration") is None or self.get("time-pos") is None \
                or not self.get("seekable"):
            if time.monotonic() > deadline or self.get("idle-active"):  # idle: it gave up
                raise CoderError("mpv could not play it: not a recording mpv can read, or no "
                                 "sound device (without one, set CODER_MPV_ARGS=--ao=null)",
                                 path=path)
            time.sleep(0.02)
        self.loaded = path

    @property
    def position(self) -> float | None:
        value = self.get("time-pos") if self.loaded else None
        return float(value) if value is not None else None

    @property
    def duration(self) -> float | None:
        value = self.get("duration") if self.loaded else None
        return float(value) if value is not None else None

    @property
    def paused(self) -> bool:
        """Not playing: paused, or stopped at a range's end (or the file's)."""
        if not self.running:
            return True
        return bool(self.get("pause")) or bool(self.loaded and self.get("eof-reached"))

    @property
    def speed(self) -> float:
        value = self.get("speed") if self.running else None
        return float(value) if value is not None else 1.0

    def seek(self, seconds: float) -> None:
        deadline = time.monotonic() + 1.0
        while True:  # mpv refuses a seek while it is still opening the file
            try:
                self._request("seek", max(0.0, seconds), "absolute+exact")
                return
            except MpvError:
                if time.monotonic() > deadline:
                    raise CoderError(f"mpv cannot seek in {self.loaded}") from None
                time.sleep(0.02)

    def play_range(self, start: float, end: float | None) -> None:
        """Play from ``start``; mpv itself pauses at ``end`` (None: play on)."""
        self.set("pause", True)
        self.set("end", "none" if end is None else f"{end:.3f}")
        self.seek(start)
        self._settle(start)
        self.set("pause", False)

    def _settle(self, target: float) -> None:
        """Wait (up to a second) until a seek to ``target`` shows in the position."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            position = self.position
            if position is not None and abs(position - max(0.0, target)) < 0.1 \
                    and not self.get("eof-reached"):
                return
            time.sleep(0.005)

    def _play_on(self) -> None:
        """Forget a range's end; at it, seek where we are so playing can go on."""
        if self.get("end") not in (None, "none"):
            self.set("end", "none")
            position = self.position or 0.0
            self.seek(position)
            self._settle(position)

    def toggle_pause(self) -> bool:
        """Play or pause; True when it plays now. Playing on goes past a range's end."""
        playing = self.paused
        if playing:
            self._play_on()
        self.set("pause", not playing)
        return playing

    def skip(self, seconds: float) -> None:
        position = self.position or 0.0
        self.set("end", "none")
        self.seek(position + seconds)

    def step_speed(self, step: int) -> float:
        """The next speed in :data:`SPEEDS` up (+1) or down (-1); the new speed."""
        current = self.speed
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - current))
        speed = SPEEDS[max(0, min(len(SPEEDS) - 1, index + step))]
        self.set("speed", speed)
        return speed

    def show_video(self, on: bool = True) -> None:
        """Show the video in mpv's own window (or go back to audio only)."""
        self.set("force-window", "yes" if on else "no")
        self.set("vid", "auto" if on else "no")
        self.video = on

    def wait_paused(self, timeout: float) -> bool:
        """Wait until playback pauses or ends; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.paused:
                return True
            time.sleep(0.05)
        return False
