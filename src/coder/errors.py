"""Errors a user can act on: the CLI prints them as one line and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class CoderError(Exception):
    """A problem with the user's input or study, reported without a traceback."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.reason = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __reduce__(self):  # keep path and line when sent between processes
        return (self.__class__, (self.reason,), {"path": self.path, "line": self.line})

    def __str__(self) -> str:
        where = shown_path(self.path) if self.path else ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.reason}" if where else self.reason


def shown_path(path: str | Path) -> str:
    """A path as a terminal can show it: undecodable bytes as ``\\xe9``, controls visible."""
    from coder.formatting import visible

    text = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return visible(text)


class InputError(CoderError):
    """A file that cannot be read as what it claims to be."""
