"""Text that XML can hold: the export writes what the import accepted, and says what changed.

A transcript, memo or definition may hold control characters that XML 1.0 cannot carry
even escaped (lxml refuses them). :class:`SafeMaker` wraps an lxml ``ElementMaker`` and
replaces them with U+FFFD in every text and attribute, counting them in ``replaced``.
"""

from __future__ import annotations

from typing import Any

from coder.formatting import xml_safe


class SafeMaker:
    """An ``ElementMaker`` whose strings are made XML-safe (``replaced`` counts changes)."""

    def __init__(self, maker: Any):
        self._maker = maker
        self.replaced = 0

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            value, count = xml_safe(value)
            self.replaced += count
        return value

    def __getattr__(self, tag: str) -> Any:
        make = getattr(self._maker, tag)

        def build(*children: Any, **attrs: Any) -> Any:
            return make(*[self._clean(c) for c in children],
                        **{k: self._clean(v) for k, v in attrs.items()})

        return build


def replaced_note(count: int, where: str) -> str:
    """What an export says when it replaced ``count`` characters ('' when none)."""
    if not count:
        return ""
    many = "control character" if count == 1 else "control characters"
    return (f"Note: {count} {many} that XML cannot hold (in {where}) "
            f"{'was' if count == 1 else 'were'} written as U+FFFD")
