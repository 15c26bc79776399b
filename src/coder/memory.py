"""Giving freed memory back to the operating system before a large allocation."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():  # glibc's malloc_trim, or None elsewhere
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def give_back() -> None:
    """Return the heap's free pages to the OS (glibc only; a no-op elsewhere).

    Freed Python strings stay in the process's heap; when the next allocation is one
    large block (SQLite copying a 200 MB transcript text) that block comes on top of them.
    """
    trim = _trim()
    if trim is not None:
        trim(0)
