"""Small text formats shared by the command line, the workbench and the exporters."""

from __future__ import annotations


def clock(seconds: float | None) -> str:
    """``00:12:31`` (empty when the time is unknown)."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def clock_exact(seconds: float) -> str:
    """``00:12:31.4``: a playback position, to the tenth of a second."""
    tenths = int(round(seconds * 10))
    whole, tenth = divmod(tenths, 10)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{tenth}"


def plural(count: int, noun: str) -> str:
    """'1 code', '2 codes', '2 matches'."""
    many = noun + ("es" if noun.endswith(("s", "ch", "sh", "x")) else "s")
    return f"{count} {noun if count == 1 else many}"
