"""Turn the bytes of a text file into clean ``str``: encoding detection and newlines.

Order of attempts: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE), UTF-16 without
a BOM when the NUL-byte pattern says so, strict UTF-8, then cp1252 (the Windows default
that Word and Excel use for "smart quotes"). charset-normalizer is consulted only when
most of the file is non-ASCII (likely a non-Latin legacy encoding such as cp1251 or
Shift-JIS), where reading it as cp1252 would give mojibake.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from coder.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NAMES = {
    "utf-8": "UTF-8",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32-le": "UTF-32",
    "utf-32-be": "UTF-32",
}
# C0 controls other than tab, newline, vertical tab (Word's line break), form feed, CR.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_SAMPLE = 65536
_HIGH = re.compile(rb"[\x80-\xff]")


def read_text(path: Path | str, *, kind: str = "text transcript") -> str:
    """Read and decode a text file; raise :class:`InputError` with a short reason."""
    return decode_bytes(read_bytes(path), path, kind=kind)


def read_bytes(path: Path | str) -> bytes:
    """Read a file's bytes, turning OS errors into :class:`InputError`."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None


def decode_bytes(data: bytes, path: Path | str | None, *, kind: str = "text transcript") -> str:
    """Decode ``data`` to text with ``\\n`` line endings and no leading BOM.

    ``kind`` names what the file should be, for the "binary file" message.
    """
    if not data or data.isspace():  # (strip() would copy a 200 MB file)
        raise InputError("empty file", path=path)
    text = _decode(data, path, kind)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise InputError(f"binary file, not a {kind}", path=path)
    sample = text[:_SAMPLE]
    controls = len(_CONTROL.findall(sample))
    if controls > max(8, len(sample) // 100):
        raise InputError(f"binary file, not a {kind}", path=path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():
        raise InputError("empty file", path=path)
    return text


def _decode(data: bytes, path: Path | str | None, kind: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom) :], encoding, path)
    if b"\x00" in data[:_SAMPLE]:
        utf16 = _utf16_without_bom(data[:_SAMPLE])
        if utf16 is None:
            raise InputError(f"binary file, not a {kind}", path=path)
        return _strict(data, utf16, path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text: str | None = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    sample = data[:_SAMPLE]
    if text is None or len(_HIGH.findall(sample)) > len(sample) * 0.3:
        guess = _guess(data)
        if guess is not None:
            return guess
    if text is None:
        raise InputError("not valid UTF-8, UTF-16 or cp1252 text", path=path)
    return text


def _strict(data: bytes, encoding: str, path: Path | str | None) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = _NAMES[encoding]
        raise InputError(
            f"not valid {name} text (bad bytes at offset {exc.start})", path=path
        ) from None


def _utf16_without_bom(sample: bytes) -> str | None:
    """Say ``utf-16-le``/``-be`` when NULs sit in every other byte (mostly-ASCII UTF-16)."""
    half = len(sample) // 2
    if half < 2:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd >= half * 0.3 and even <= half * 0.02:
        return "utf-16-le"
    if even >= half * 0.3 and odd <= half * 0.02:
        return "utf-16-be"
    return None


def _guess(data: bytes) -> str | None:
    """Ask charset-normalizer for a legacy (non-UTF) encoding; ``None`` if unsure."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding.startswith(("utf_16", "utf_32")):
        return None
    return str(best)
