"""How many of coder's codings other REFI-QDA readers get right (the README's reader table).

Not a test and not run by the suite: the readers are not coder's dependencies. Install the
one to check in a virtualenv of its own (pyqdpx needs Python 3.12; qualitative-coding and
Taguette cannot share one), export a study with coder, then run this file with that
virtualenv's Python, the default (code point) export first, as the reference:

    coder export qdpx /tmp/cp.qdpx
    coder export qdpx /tmp/one16.qdpx --one-coding-per-selection --offsets utf16
    coder export qdpx /tmp/u8.qdpx --offsets utf8
    coder export qdpx /tmp/lines.qdpx --selection-names lines
    .../pyqdpx-venv/bin/python benchmarks/refi_clients.py pyqdpx /tmp/cp.qdpx /tmp/one16.qdpx
    .../qdpxlib-venv/bin/python benchmarks/refi_clients.py qdpxlib /tmp/cp.qdpx /tmp/u8.qdpx
    .../qc-venv/bin/python benchmarks/refi_clients.py qc /tmp/cp.qdpx /tmp/lines.qdpx

Each line says how many (source, code, quote) triples the reader got as coder meant them.
Only the standard library, the reader and its own dependencies are used here.
"""

from __future__ import annotations

import collections
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

NS = {"q": "urn:QDA-XML:project:1.0"}


def truth(path: str) -> list[tuple[str, str, str, int]]:
    """(source GUID, code name, quote, line) of every coding of a default (code point)
    export, as coder meant it."""
    archive = zipfile.ZipFile(path)
    root = ET.fromstring(archive.read("project.qde"))
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", NS)}
    out = []
    for source in root.iterfind(".//q:TextSource", NS):
        text = archive.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
        for sel in source.iterfind("q:PlainTextSelection", NS):
            a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for coding in sel.iterfind("q:Coding", NS):
                code = codes[coding.find("q:CodeRef", NS).get("targetGUID")]
                out.append((source.get("guid"), code, text[a:b], text.count("\n", 0, a)))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def pyqdpx(path: str, reference: str) -> str:
    from pyqdpx import QDPX

    want = collections.Counter((g, c, q) for g, c, q, _ in truth(reference))
    project = QDPX(path).get_project()
    got = collections.Counter(
        (guid, sel.code.name, sel.text.replace("\u200b", ""))
        for guid, source in project.sources.items() for sel in source.coded_selections.values())
    return f"read {sum(got.values())}, right {sum((want & got).values())}"


def qdpxlib(path: str, reference: str) -> str:
    from qdpxlib import QDPXFile

    reader = QDPXFile.__new__(QDPXFile)  # its parse, without its sentence splitting
    reader.filename, reader.context, reader.codings = path, 100, []
    reader.codes, reader.code_name_to_guid, reader.uncoded_intervals = {}, {}, {}
    reader._unzip_qdpx()
    reader._parse_qde()
    want = collections.Counter((g, c, _norm(reader._clean_text(q.strip())))
                               for g, c, q, _ in truth(reference))
    got = collections.Counter((g, label, _norm(text)) for g, text, _, _, labels in reader.codings
                              for label in labels)
    return f"read {sum(got.values())}, right {sum((want & got).values())}"


def qc(path: str, reference: str) -> str:
    """qualitative-coding codes lines: compare (line, code) pairs (every line a coding
    covers, as the reference export's text has them)."""
    want = set()
    for _guid, code, quote, line in truth(reference):
        want |= {(line + k, code) for k, part in enumerate(quote.split("\n")) if part.strip()}
    with tempfile.TemporaryDirectory() as folder:
        # qc 1.7.8's importer stops in a leftover breakpoint() unless told not to
        subprocess.run([sys.executable, "-c", "from qualitative_coding.cli import cli; cli()",
                        "init", "--import", path], cwd=folder,
                       env={**os.environ, "PYTHONBREAKPOINT": "0"}, capture_output=True,
                       check=False)
        db = sqlite3.connect(f"{folder}/qualitative_coding.sqlite3")
        got = {(line, code) for line, code in db.execute("SELECT line, code_id FROM coded_line")}
    lines = collections.Counter(line for line, _ in got)
    return (f"{len(got)} (line, code) pairs, {len(want & got)} as coder meant; "
            f"on line 0: {lines[0]}")


if __name__ == "__main__":
    reader, reference, *paths = sys.argv[1:]
    check = {"pyqdpx": pyqdpx, "qdpxlib": qdpxlib, "qc": qc}[reader]
    for file in [reference, *paths]:
        print(f"{reader} {re.sub(r'.*/', '', file)}: {check(file, reference)}")
