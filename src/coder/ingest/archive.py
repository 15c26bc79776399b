"""Guarding zip-based formats (.docx, .xlsx, .qdpx) against broken and hostile archives.

Sizes declared in an archive are claims, not facts: :func:`check_zip` inflates every
member through a counting stream that stops at the bound (so a bomb costs at most the
bound in time and nothing in memory) and checks each CRC, before any library opens the
file; :func:`read_member` reads one member through the same capped stream.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from coder.errors import InputError

# Far above any real transcript or survey, far below what would exhaust memory.
MAX_UNPACKED = 256 * 2**20
MAX_RATIO = 200
MAX_MEMBERS = 10_000
_CHUNK = 2**20

# What zipfile and zlib raise for damaged, truncated, encrypted or unsupported members.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
              ValueError, NotImplementedError, RuntimeError, KeyError)


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path | str,
            keep: bool) -> tuple[bytes, int]:
    """Inflate ``info`` in chunks, stopping past ``limit``: (the bytes if kept, the count)."""
    out = bytearray()
    seen = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                seen += len(chunk)
                if seen > limit:
                    raise InputError(f"refused: {info.filename} unpacks to more than "
                                     f"{limit / 2**20:.0f} MB (a zip bomb?)", path=path)
                if keep:
                    out += chunk
    except InputError:
        raise
    except ZIP_ERRORS as exc:
        raise InputError(f"damaged archive: {info.filename} cannot be unpacked "
                         f"({_reason(exc)})", path=path) from None
    return bytes(out), seen


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:100]


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path | str, *,
                limit: int = MAX_UNPACKED) -> bytes:
    """The bytes of one member, read through a stream that stops at ``limit``."""
    return _stream(archive, info, limit, path, keep=True)[0]


def check_zip(path: Path | str, kind: str) -> None:
    """Refuse a file that is not a zip archive, is damaged, or would unpack to a bomb."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_declared(members, path, kind)
            budget = MAX_UNPACKED
            for info in members:
                if info.is_dir():
                    continue
                budget -= _stream(archive, info, budget, path, keep=False)[1]
    except InputError:
        raise
    except ZIP_ERRORS:
        raise InputError(f"not {kind} file", path=path) from None


def _check_declared(members: list[zipfile.ZipInfo], path: Path | str, kind: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise InputError(f"refused: {len(members)} parts in the archive, too many for {kind}",
                         path=path)
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > MAX_UNPACKED or (unpacked > 2**20 and unpacked / packed > MAX_RATIO):
        raise InputError(f"refused: unpacks to {unpacked / 2**20:.0f} MB from "
                         f"{packed / 2**20:.1f} MB (a zip bomb?)", path=path)
    if any(m.filename.startswith("/") or ".." in Path(m.filename).parts for m in members):
        raise InputError(f"refused: {kind} with unsafe paths inside", path=path)
