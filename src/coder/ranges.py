"""Segment ranges like ``1-9,12``: intervals, never expanded into lists of numbers.

``1-999999999`` costs the same as ``1-9``: membership is a test against the intervals and
anything listed is clipped to the segments a transcript has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coder.errors import CoderError

_MAX_PARTS = 10_000


@dataclass(frozen=True)
class Ranges:
    """Closed intervals of segment numbers, as given."""

    spans: tuple[tuple[int, int], ...]

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and any(low <= number <= high for low, high in self.spans)

    def missing(self, present: Iterable[int]) -> list[int]:
        """Numbers asked for one by one (``12``, not ``10-20``) that are not in ``present``."""
        have = set(present)
        return [low for low, high in self.spans if low == high and low not in have]

    def empty_spans(self, present: Iterable[int]) -> list[str]:
        """Intervals (``10-20``) that hold none of ``present``."""
        have = sorted(set(present))
        return [f"{low}-{high}" for low, high in self.spans if low != high
                and not any(low <= n <= high for n in have)]


def parse_ranges(spec: str) -> Ranges:
    """``"1-9,12"`` -> intervals (1, 9) and (12, 12); a CoderError for anything else."""
    spans: list[tuple[int, int]] = []
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if len(parts) > _MAX_PARTS:
        raise CoderError(f"too many segment ranges ({len(parts)}; at most {_MAX_PARTS})")
    for part in parts:
        try:
            if "-" in part[1:]:
                cut = part.index("-", 1)
                low, high = int(part[:cut]), int(part[cut + 1:])
            else:
                low = high = int(part)
            if low < 1 or low > high:
                raise ValueError
        except ValueError:
            shown = part if len(part) <= 40 else part[:37] + "..."
            raise CoderError(f"bad segment range {shown!r} (use e.g. 1-9,12; segments count "
                             "from 1)") from None
        spans.append((low, high))
    if not spans:
        raise CoderError("no segment range given (use e.g. 1-9,12)")
    return Ranges(tuple(spans))
