"""Small text formats shared by the command line, the workbench and the exporters."""

from __future__ import annotations

import re


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


# C0 controls except tab and newline, DEL, C1 controls, and lone surrogates (an undecodable
# file name): none may reach a terminal, where ESC sequences retitle, clear or rewrite it.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␍ for CR ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and lone surrogates


def visible(text: str) -> str:
    """``text`` safe for a terminal: control characters (not tab and newline) made visible.

    One character for one, so offsets into the text stay right. For display only: the
    stored text stays as it was imported.
    """
    return _CONTROLS.sub(_shown, text) if _CONTROLS.search(text) else text


def control_characters(text: str) -> list[str]:
    """The control characters in ``text`` (as ``U+001B``), for refusing them in names."""
    found = dict.fromkeys(f"U+{ord(c):04X}" for c in _CONTROLS.findall(text))
    found.update(dict.fromkeys(f"U+{ord(c):04X}" for c in text if c in "\t\n"))
    return list(found)


def check_name(name: str, what: str = "a name") -> str:
    """``name`` if it has no control characters (nor tab or newline); else a CoderError."""
    bad = control_characters(name)
    if bad:
        from coder.errors import CoderError

        raise CoderError(f"{what} cannot contain control characters ({', '.join(bad)}): "
                         f"{visible(name)!r}")
    return name


def without_controls(text: str) -> str:
    """``text`` with the control characters dropped (they take no cells on screen either)."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: "\ufffd" if ord(m.group()) >= 0xD800 else "", text)


# Characters XML 1.0 cannot hold at all (not even escaped).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> tuple[str, int]:
    """``text`` with characters XML cannot hold replaced by U+FFFD, and how many there were."""
    if not _NOT_XML.search(text):
        return text, 0
    return _NOT_XML.subn("\ufffd", text)


def some(items: list[str] | tuple[str, ...], limit: int = 10) -> str:
    """``'a, b, c'``, or the first ``limit`` and ``'… and 1,990 more'``."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} … and {len(items) - limit:,} more"
