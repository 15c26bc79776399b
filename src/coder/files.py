"""Writing files atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coder.errors import CoderError
from coder.sharing import make_folders, share_like_folder


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    try:
        make_folders(path.parent)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise CoderError(f"cannot write ({exc.strerror or exc})", path=path) from exc
    try:
        write(Path(name))
        _fsync(name)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)  # mkstemp makes it private; exports are ordinary files
        share_like_folder(Path(name))  # in a group's study folder, the group can write it too
        os.replace(name, path)
        _fsync(path.parent)
    except OSError as exc:
        raise CoderError(f"cannot write ({exc.strerror or exc})", path=path) from exc
    finally:
        if os.path.exists(name):
            os.unlink(name)


def _fsync(path: str | Path) -> None:
    """Flush a file (or a folder's entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        if not os.path.isdir(path):  # some file systems cannot fsync a folder
            raise
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8, atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_figure(path: Path, figure: Any, dpi: int) -> None:
    """Save a matplotlib figure atomically, in the format its suffix names (PNG by default)."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=dpi, format=fmt))
