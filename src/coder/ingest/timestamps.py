"""Clock-style timestamps shared by every format: ``mm:ss``, ``h:mm:ss``, with ms."""

from __future__ import annotations

# mm:ss, h:mm:ss, hh:mm:ss with optional .mmm / ,mmm
TIMESTAMP = r"\d{1,2}:[0-5]\d(?::[0-5]\d)?(?:[.,]\d{1,3})?"


def parse_timestamp(value: str) -> float:
    """``'1:02:03.5'`` -> ``3723.5`` seconds (``mm:ss`` / ``h:mm:ss``, ``.`` or ``,`` ms)."""
    main, _, frac = value.replace(",", ".").partition(".")
    seconds = 0
    for part in main.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (float("0." + frac) if frac else 0.0)
