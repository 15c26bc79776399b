"""Guarding zip-based formats (.docx, .xlsx) against broken and hostile archives."""

from __future__ import annotations

import zipfile
from pathlib import Path

from coder.errors import InputError

# Far above any real transcript or survey, far below what would exhaust memory.
MAX_UNPACKED = 256 * 2**20
MAX_RATIO = 200
MAX_MEMBERS = 10_000


def check_zip(path: Path | str, kind: str) -> None:
    """Refuse a file that is not a zip archive, or whose contents would unpack to a bomb."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(f"not {kind} file", path=path) from None
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
