"""A tiny PDF writer for tests: real PDF files with a text layer, one list of lines per page.

Helvetica with WinAnsi encoding, so Latin text (é, ü, –, ’) round-trips through pypdf.
``pages=[[]]`` makes a page with no text (what a scan looks like to a text extractor).
"""

from __future__ import annotations

from pathlib import Path


def _string(text: str) -> bytes:
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Write ``pages`` (each a list of text lines, top to bottom) as a PDF at ``path``."""
    objects: list[bytes] = []
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    for lines in pages:
        body = b"BT /F1 11 Tf 14 TL 72 740 Td " + b" ".join(
            _string(line) + b" Tj T*" for line in lines) + b" ET"
        if not lines:
            body = b"0 0 1 rg 72 72 100 100 re f"  # a filled box: a page with no text
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id))
        kids.append(len(objects))
    objects[1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                  + b"] /Count %d >>" % len(kids))
    data = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(data))
    return path
