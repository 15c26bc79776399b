"""Hostile input: each case is one line naming the file and the reason, a non-zero exit, no
traceback, and the study's database and files exactly as they were.

Every input is generated here, small; the ones that would be huge are built so the bound
stops them early (a billion laughs is a few hundred bytes until something expands it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from coder.cli import cli
from conftest import run


def fingerprint(root: Path) -> dict[str, str]:
    """A hash of every file in the study (SQLite's -wal/-shm side files aside)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def refused(study, *args: str, names: str | Path | None = None, reason: str = "",
            extra: tuple[Path, ...] = (), lines: int = 1):
    """Run the CLI, expect one clear error line (per bad row), and prove nothing changed."""
    before = fingerprint(study.root), {p: p.read_bytes() for p in extra if p.exists()}
    result = CliRunner().invoke(cli, [*args, "--study", str(study.root)],
                                catch_exceptions=False)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("coder: error")]
    assert errors, result.output
    assert len(errors) == lines, result.stderr
    if names is not None:
        assert str(Path(names).name) in errors[0], errors[0]
    assert reason.lower() in errors[0].lower(), errors[0]
    assert fingerprint(study.root) == before[0]
    assert {p: p.read_bytes() for p in extra if p.exists()} == before[1]
    return errors[0]


# -- 1. YAML front matter --------------------------------------------------------------------
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
    for i in range(9))

FRONT_MATTER = {
    "impossible date": ("date: 2024-13-45\n", "2024-13-45"),
    "recursive alias": ("site: &x [*x]\n", "refers to itself"),
    "5000-digit integer": ("n: " + "9" * 5000 + "\n", "as a number"),
    "billion laughs": (LAUGHS, "billion-laughs"),
    "deep nesting": ("x: " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper"),
    "deep block nesting": ("".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400
                           + "v\n", "nested deeper"),
}


@pytest.mark.parametrize("case", FRONT_MATTER, ids=list(FRONT_MATTER))
def test_hostile_front_matter_is_one_line_at_sync_and_import(demo, tmp_path, case):
    body, reason = FRONT_MATTER[case]
    path = demo.transcripts_dir / "bad.md"
    path.write_text(f"---\n{body}---\nAna: hi\n", encoding="utf-8")
    line = refused(demo, "sync", names=path, reason=reason)
    assert "bad.md:" in line  # with the line number
    outside = tmp_path / "outside.md"
    outside.write_text(f"---\n{body}---\nAna: hi\n", encoding="utf-8")
    refused(demo, "import", str(outside), names=outside, reason=reason)


def test_front_matter_error_names_the_line_in_the_file(demo):
    path = demo.transcripts_dir / "bad.md"
    path.write_text("---\ntitle: ok\ndate: 2024-13-45\n---\nAna: hi\n", encoding="utf-8")
    assert "bad.md:3:" in refused(demo, "sync", names=path, reason="as a date")


# -- 6. Codebook YAML ------------------------------------------------------------------------
CODEBOOKS = {
    "block nesting 400": ("codes:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(400))
                          + "  " * 400 + "- v\n", "nested deeper"),
    "flow nesting 3000": ("codes: " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper"),
    "aliased long string": ("s: &s " + "x" * 100_000 + "\ncodes:\n"
                            + "".join(f"  - name: c{i}\n    definition: *s\n"
                                      for i in range(2000)), "billion-laughs"),
    "nested laughs": ("codes: []\n" + LAUGHS, "billion-laughs"),
    "recursive": ("codes: &c [*c]\n", "refers to itself"),
    "bad exclusive value": ("codes:\n  - name: a\n    exclusive: 2024-13-45\n    children:\n"
                            "      - name: b\n", "2024-13-45"),
}


@pytest.mark.parametrize("case", CODEBOOKS, ids=list(CODEBOOKS))
def test_hostile_codebooks_are_one_line_at_load_and_sync(demo, tmp_path, case):
    text, reason = CODEBOOKS[case]
    outside = tmp_path / "cb.yaml"
    outside.write_text(text, encoding="utf-8")
    refused(demo, "codebook", "load", str(outside), names=outside, reason=reason)
    inside = demo.codebooks_dir / "zz.yaml"
    inside.write_text(text, encoding="utf-8")
    refused(demo, "sync", names=inside, reason=reason)


def test_the_bounded_loader_still_reads_ordinary_yaml():
    from coder import safe_yaml

    data = safe_yaml.load("a: &x [1, 2]\nb: *x\nwhen: 2024-01-02\n")
    assert data["a"] == data["b"] == [1, 2]
    assert str(data["when"]) == "2024-01-02"


# -- 3. Atomic writes ------------------------------------------------------------------------
def _disk_full_at(limit: int):
    """Run a child as if the disk filled up after ``limit`` bytes of any one file."""
    import resource
    import signal

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_writes


def _coder(study, *args: str, preexec=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "coder", *args, "--study", str(study.root)],
                          capture_output=True, text=True, preexec_fn=preexec, timeout=120)


@pytest.mark.parametrize("what", [["codebook", "export"], ["codings", "export", "--all-coders"]])
def test_a_write_that_fails_half_way_leaves_the_old_file_whole(demo, what):
    from coder.store.codes import add_code
    from coder.store.codings import apply_by_name
    from conftest import open_store

    with open_store(demo) as store, store.transaction("test"):
        for i in range(400):
            add_code(store, f"code {i}", definition="a long definition " * 10)
            apply_by_name(store, "ephrata-interview", 1 + i % 5, f"code {i}", coder="tester",
                          memo="why " * 40)
    out = demo.root / "exports" / "old.txt"
    out.write_text("the old file\n", encoding="utf-8")
    before = fingerprint(demo.root)
    result = _coder(demo, *what, "--out", str(out), preexec=_disk_full_at(40_000))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "old.txt" in result.stderr and "too large" in result.stderr.lower(), result.stderr
    assert out.read_text(encoding="utf-8") == "the old file\n"
    assert fingerprint(demo.root) == before  # no temp file left behind either
    new = demo.root / "exports" / "new.md"  # a file that did not exist is not left empty
    assert _coder(demo, *what, "--out", str(new), preexec=_disk_full_at(40_000)).returncode
    assert not new.exists() and fingerprint(demo.root) == before
    assert _coder(demo, *what, "--out", str(out)).returncode == 0
    assert out.stat().st_size > 40_000


def test_only_the_atomic_writer_writes_files():
    """Every write in src/ goes to the temporary path that coder.files.write_atomic hands out."""
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "coder"
    offences = []
    for path in src.rglob("*.py"):
        if path.name == "files.py" and path.parent == src:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target: ast.expr | None = None
            if name in ("write_text", "write_bytes") and isinstance(func, ast.Attribute):
                target = func.value
            elif name in ("open", "ZipFile", "savefig") and node.args:
                mode = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "mode"), None)
                writes = isinstance(mode, ast.Constant) and any(c in str(mode.value)
                                                                for c in "wax+")
                if name == "savefig" or writes:
                    target = node.args[0]
            else:
                continue
            if target is None:
                continue
            if not (isinstance(target, ast.Name) and target.id == "tmp"):
                offences.append(f"{path.relative_to(src)}:{node.lineno}: {ast.unparse(node)}")
    assert not offences, "\n".join(offences)


# -- 5. Archives that lie --------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _patch_central(path: Path, member: str, *, crc: int | None = None,
                   size: int | None = None) -> None:
    """Rewrite what the central directory (and local header) claims about ``member``."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        name = bytes(data[at + 46:at + 46 + name_len]).decode()
        local = struct.unpack_from("<I", data, at + 42)[0]
        if name == member:
            for base, crc_at in ((at, 16), (local, 14)):
                if crc is not None:
                    struct.pack_into("<I", data, base + crc_at, crc)
                if size is not None:
                    struct.pack_into("<I", data, base + crc_at + 8, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def _corrupt_deflate(path: Path, member: str) -> None:
    import struct

    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_len]).decode() == member:
            local = struct.unpack_from("<I", data, at + 42)[0]
            break
        at = data.index(b"PK\x01\x02", at + 4)
    start = local + 30 + struct.unpack_from("<H", data, local + 26)[0] + struct.unpack_from(
        "<H", data, local + 28)[0]
    data[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


def _qdpx(demo, tmp_path: Path) -> Path:
    out = tmp_path / "good.qdpx"
    assert run(demo, "export", "qdpx", str(out)).exit_code == 0
    return out


def _bomb_member(path: Path, name: str, unpacked: int) -> None:
    """Add ``name`` inflating to ``unpacked`` zero bytes, streamed, never held in memory."""
    import zipfile

    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as member:
        chunk = b"\0" * 2**20
        for _ in range(unpacked // len(chunk)):
            member.write(chunk)


def _lying(qdpx: Path, tmp_path: Path, how: str) -> Path:
    import zipfile

    out = tmp_path / f"{how}.qdpx"
    with zipfile.ZipFile(qdpx) as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    _zip(out, members)
    source = next(n for n in members if n.startswith("sources/"))
    if how == "bad-crc-project":
        _patch_central(out, "project.qde", crc=0x12345678)
    elif how == "bad-crc-source":
        _patch_central(out, source, crc=0x12345678)
    elif how == "corrupt-deflate":
        _corrupt_deflate(out, "project.qde")
    elif how == "lying-size":
        _bomb_member(out, "sources/extra.txt", 64 * 2**20)
        _patch_central(out, "sources/extra.txt", size=1000)
    elif how == "truncated":
        out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    return out


LIES = {"bad-crc-project": "project.qde", "bad-crc-source": "cannot be unpacked",
        "corrupt-deflate": "project.qde", "lying-size": "extra.txt", "truncated": ""}


@pytest.mark.parametrize("how", LIES, ids=list(LIES))
def test_archives_that_lie_are_refused_in_one_line(demo, tmp_path, how):
    bad = _lying(_qdpx(demo, tmp_path), tmp_path, how)
    refused(demo, "import", str(bad), names=bad, reason=LIES[how])
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(cli, ["init", str(fresh), "--from", str(bad)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ready" not in result.output
    assert not fresh.exists()  # nothing is left behind


def test_a_docx_bomb_that_lies_about_its_size_is_refused_without_unpacking_it(demo, tmp_path):
    import tracemalloc

    import docx

    path = tmp_path / "bomb.docx"
    document = docx.Document()
    document.add_paragraph("Ana: hi")
    document.save(str(path))
    _bomb_member(path, "word/media/huge.bin", 64 * 2**20)
    _patch_central(path, "word/media/huge.bin", size=4096)
    tracemalloc.start()
    refused(demo, "import", str(path), names=path, reason="huge.bin")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 32 * 2**20


def test_init_from_a_bad_file_leaves_an_existing_folder_as_it_was(tmp_path):
    target = tmp_path / "here"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n", encoding="utf-8")
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = CliRunner().invoke(cli, ["init", str(target), "--from", str(bad)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "bad.qdpx" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


# -- 2. Terminal escape injection ------------------------------------------------------------
TITLE = "\x1b]0;PWNED-TITLE\x07"
CLEAR = "\x1b[2J"


def _hostile_transcript(study) -> Path:
    path = study.transcripts_dir / "esc.txt"
    path.write_text(f"Ana: hello {TITLE} there{CLEAR}\x9b31m\n\nBo: fine\n", encoding="utf-8")
    return path


def test_control_characters_in_text_never_reach_cli_tables_but_stay_stored(demo):
    _hostile_transcript(demo)
    assert run(demo, "sync").exit_code == 0
    shown = run(demo, "segments", "esc")
    assert shown.exit_code == 0
    assert "\x1b" not in shown.output and "\x07" not in shown.output
    assert "\x9b" not in shown.output
    assert "␛]0;PWNED-TITLE␇" in shown.output
    search = run(demo, "search", "hello")
    assert "\x1b" not in search.output
    import json

    stored = json.loads(run(demo, "segments", "esc", "--format", "json").output)
    assert stored[0]["text"].startswith(f"hello {TITLE}")  # kept faithfully


@pytest.mark.parametrize("args", [
    ["code", "add", f"x{CLEAR}"],
    ["code", "rename", "islands of innovation", f"new{TITLE}"],
    ["code", "add", "two\nlines"],
    ["status", "--coder", f"me{CLEAR}"],
])
def test_control_characters_in_names_are_refused(demo, args):
    line = refused(demo, *args, reason="control characters")
    assert "\x1b" not in line and "␛" in line or "U+000A" in line


def test_a_codebook_name_with_control_characters_is_refused(demo, tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text('codes:\n  - name: "bad\\e[2J"\n', encoding="utf-8")
    assert "cb.yaml:2:" in refused(demo, "codebook", "load", str(path), names=path,
                                   reason="control characters")


def test_a_file_name_with_control_characters_is_refused(demo, tmp_path):
    path = tmp_path / f"x{CLEAR}y.txt"
    path.write_text("Ana: hi\n", encoding="utf-8")
    line = refused(demo, "import", str(path), reason="control characters")
    assert "x␛[2Jy" in line


def test_a_file_name_that_is_not_utf8_is_one_line(demo, tmp_path):
    import os

    folder = tmp_path / "d"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")
    (folder / name).write_text("Ana: hi\n", encoding="utf-8")
    line = refused(demo, "import", str(folder), reason="not valid UTF-8")
    assert "caf\\xe9.txt" in line


async def test_the_workbench_never_writes_control_characters_to_the_terminal(demo):
    from coder.tui import CoderApp

    _hostile_transcript(demo)
    assert run(demo, "sync").exit_code == 0
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("DataTable")
        names = [table.get_row_at(i)[0] for i in range(table.row_count)]
        table.move_cursor(row=names.index("esc"))
        await pilot.press("enter")
        await pilot.pause()
        lines = [app.screen._compositor.render_update(full=True).render_segments(app.console)]
        view = app.screen.query_one("TranscriptView")
        text = "".join(strip.text for strip in (view.render_line(y) for y in range(6)))
    from rich.segment import Segment
    from textual.strip import Strip

    assert "\x1b]0;" not in Strip([Segment(TITLE + "x")]).render(app.console)  # the guard
    sequence = lines[0]
    assert "PWNED" in sequence  # the text is there, shown
    assert "\x1b]0;" not in sequence and "\x07" not in sequence and "\x1b[2J" not in sequence
    assert "\x9b" not in sequence
    assert "␛]0;PWNED-TITLE␇" in text and "there␛[2J" in text


def test_refi_export_writes_what_import_accepted_and_says_what_it_replaced(demo, tmp_path):
    _hostile_transcript(demo)
    assert run(demo, "sync").exit_code == 0
    assert run(demo, "memo", "set", f"see {TITLE}", "--whole-study").exit_code == 0
    assert run(demo, "code", "apply", "esc", "1", "need targeted PD",
               "--memo", f"why{CLEAR}").exit_code == 0
    out = tmp_path / "out.qdpx"
    result = run(demo, "export", "qdpx", str(out))
    assert result.exit_code == 0, result.output
    assert "written as U+FFFD" in result.output
    fresh = tmp_path / "fresh"
    again = CliRunner().invoke(cli, ["init", str(fresh), "--from", str(out)],
                               catch_exceptions=False)
    assert again.exit_code == 0, again.output


# -- 4. Resource bounds ----------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["segments", "ephrata-interview", "--segments", "1-999999999999"],
    ["review", "ephrata-interview", "--segments", "2-99999999999999999999"],
])
def test_huge_ranges_are_intervals_clipped_to_the_transcript(demo, args):
    import tracemalloc

    tracemalloc.start()
    result = run(demo, *args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert peak < 64 * 2**20


def test_a_range_past_the_end_or_backwards_is_one_line(demo):
    refused(demo, "review", "ephrata-interview", "--segments", "90-99", reason="no segment")
    refused(demo, "review", "ephrata-interview", "--segments", "12", reason="no segment(s) 12")
    refused(demo, "segments", "ephrata-interview", "--segments", "9-2", reason="bad segment")
    refused(demo, "segments", "ephrata-interview", "--segments", "1-" + "9" * 5000,
            reason="bad segment")


@pytest.mark.parametrize("args", [
    ["code", "apply", "ephrata-interview", "99999999999999999999999", "need targeted PD"],
    ["code", "remove", "ephrata-interview", "99999999999999999999999", "need targeted PD"],
    ["memo", "set", "x", "--segment", "ephrata-interview", "99999999999999999999999"],
])
def test_numbers_too_large_for_the_database_are_one_line(demo, args):
    refused(demo, *args, reason="has no segment")


def test_a_codings_row_with_a_huge_number_is_listed_not_a_traceback(demo, tmp_path):
    path = tmp_path / "codings.csv"
    path.write_text("transcript,segment,code\nephrata-interview,99999999999999999999999,"
                    "need targeted PD\n", encoding="utf-8")
    line = refused(demo, "codings", "import", str(path), names=path, reason="has no segment",
                   lines=2)
    assert "codings.csv:2:" in line


def test_a_codings_csv_field_over_the_csv_limit(demo, tmp_path):
    path = tmp_path / "codings.csv"
    memo = "m" * 200_000  # over the csv module's 128 KiB default: allowed
    path.write_text(f"transcript,segment,code,memo\nephrata-interview,2,need targeted PD,{memo}\n",
                    encoding="utf-8")
    assert run(demo, "codings", "import", str(path)).exit_code == 0
    path.write_text('transcript,segment,code,memo\nephrata-interview,2,islands of innovation,"'
                    + "m" * (2**20 + 10) + '"\n', encoding="utf-8")
    refused(demo, "codings", "import", str(path), names=path, reason="field larger")
    speakers = tmp_path / "speakers.csv"
    speakers.write_text('speaker,role\nAna,"' + "r" * (2**20 + 10) + '"\n', encoding="utf-8")
    refused(demo, "import", str(speakers), names=speakers, reason="field larger")


# -- 7. Database errors ----------------------------------------------------------------------
def test_a_damaged_database_page_is_one_line_saying_how_to_check_and_recover(demo):
    data = bytearray(demo.db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for at in range(page, len(data), page):  # every page but the first (the schema)
        data[at + 8:at + 64] = b"\xa5" * 56
    demo.db_path.write_bytes(bytes(data))
    line = refused(demo, "segments", "ephrata-interview", names=demo.db_path, reason="damaged")
    assert "coder check" in line and "backup" in line


# -- 8. merge trusts nothing -----------------------------------------------------------------
def _other_copy(demo, tmp_path: Path, tamper: str) -> Path:
    import shutil
    import sqlite3

    other = tmp_path / "other"
    shutil.copytree(demo.root, other)
    assert run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD",
               coder="ana").exit_code == 0
    shutil.copy(demo.db_path, other / "coder.db")
    conn = sqlite3.connect(other / "coder.db")
    conn.executescript("PRAGMA ignore_check_constraints = ON;" + tamper)
    conn.commit()
    conn.close()
    return other


TAMPERED = {
    "schema 999": ("PRAGMA user_version = 999", "schema version 999"),
    "span past the segment": ("UPDATE codings SET span_start = 99999999, span_end = 100000000",
                              "outside their segment"),
    "negative span": ("UPDATE codings SET span_start = -5, span_end = 3", "outside"),
    "ESC in a coder": ("UPDATE codings SET coder = 'x' || char(27) || '[2J'",
                       "control characters"),
    "ESC in a code name": ("UPDATE codes SET name = name || char(27) WHERE id = 1",
                           "control characters"),
    "text offsets": ("UPDATE segments SET start = 'a' WHERE ordinal = 1", "offsets"),
}


@pytest.mark.parametrize("case", TAMPERED, ids=list(TAMPERED))
def test_merge_validates_the_other_study_like_an_import(demo, tmp_path, case):
    tamper, reason = TAMPERED[case]
    other = _other_copy(demo, tmp_path, tamper)
    line = refused(demo, "merge", str(other), reason=reason)
    assert "other" in line and "nothing was merged" in line and "\x1b" not in line


def test_merge_lists_many_coders_without_printing_them_all(demo, tmp_path):
    import sqlite3

    other = _other_copy(demo, tmp_path, "SELECT 1")
    conn = sqlite3.connect(other / "coder.db")
    seg = conn.execute("SELECT segment_id, code_id FROM codings LIMIT 1").fetchone()
    conn.executemany("INSERT INTO reviewed (segment_id, coder, created_at) VALUES (?,?,?)",
                     [(seg[0], f"coder{i}", "2026-01-01") for i in range(5000)])
    conn.commit()
    conn.close()
    result = run(demo, "merge", str(other))
    assert result.exit_code == 0, result.output
    assert "and 4,9" in result.output and max(map(len, result.output.splitlines())) < 2000


def test_a_segment_over_a_million_characters_is_split_and_said_so(demo, tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_text("Ana: " + "word " * 500_000 + "\n", encoding="utf-8")  # 2.5 MB, one line
    result = run(demo, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "(3 segments)" in result.output and "split into pieces" in result.output
    import json

    rows = json.loads(run(demo, "segments", "one-line", "--format", "json").output)
    assert all(len(r["text"]) <= 1_000_000 and r["speaker"] == "Ana" for r in rows)
    assert "".join(r["text"] for r in rows).split() == ["word"] * 500_000


# -- 10. Read-only studies and database errors that say what happened ------------------------
def test_a_read_only_study_runs_read_commands(demo, monkeypatch):
    """The tests run as root, which may write anything: coder is told the file is not writable."""
    import coder.store.db as db

    monkeypatch.setattr(db, "writable", lambda path: False)
    before = fingerprint(demo.root)
    for args in (["status"], ["segments", "ephrata-interview"], ["codebook", "show"],
                 ["search", "seat"], ["history"]):
        result = run(demo, *args)
        assert result.exit_code == 0, (args, result.output)
    assert fingerprint(demo.root) == before
    from coder.errors import CoderError

    store = db.Store(demo.db_path, read_only=True)
    with pytest.raises(CoderError, match="read-only"), store.transaction("x"):
        pass
    store.close()


@pytest.mark.parametrize(("message", "says"), [
    ("database is locked", "busy: another coder"),
    ("attempt to write a readonly database", "read-only"),
    ("database or disk is full", "disk is full"),
    ("disk I/O error", "disk reported an error"),
])
def test_database_errors_say_what_happened_and_name_the_file(message, says):
    import sqlite3

    from coder.store.db import database_error

    error = database_error(sqlite3.OperationalError(message), "/s/coder.db")
    assert str(error).startswith("/s/coder.db: ") and says in str(error)
    damaged = database_error(sqlite3.DatabaseError("database disk image is malformed"), "x.db")
    assert "damaged" in str(damaged) and "coder check" in str(damaged)


# -- Backups and coder check -----------------------------------------------------------------
def _status(study) -> dict:
    import json

    return json.loads(run(study, "status", "--format", "json").output)


def test_destructive_commands_take_a_snapshot_that_restores(demo):
    assert run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD").exit_code == 0
    before = _status(demo)
    assert run(demo, "remove", "ephrata-interview", "--force").exit_code == 0
    assert _status(demo)["transcripts"] == 0
    folder = demo.root / ".coder-backups"
    assert (folder / ".gitignore").read_text() == "*\n"  # git never sees the snapshots
    listed = run(demo, "backup", "list", "--format", "json")
    import json

    snapshots = json.loads(listed.output)
    assert snapshots[0]["reason"] == "before-remove"
    restored = run(demo, "backup", "restore", snapshots[0]["name"], "--yes")
    assert restored.exit_code == 0, restored.output
    after = _status(demo)
    assert (after["transcripts"], after["codings"]) == (before["transcripts"], before["codings"])
    assert run(demo, "check").exit_code == 0


def test_a_failed_destructive_command_leaves_no_snapshot(demo):
    refused(demo, "remove", "no-such-transcript", reason="no transcript")
    refused(demo, "merge", str(demo.root / "missing"), reason="no such file")


def test_check_finds_and_repairs_the_search_index_and_orphans(demo):
    import sqlite3

    conn = sqlite3.connect(demo.db_path)
    seg = conn.execute("SELECT id, text FROM segments WHERE text LIKE '%seat time%'").fetchone()
    conn.execute("INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', ?, ?)",
                 seg)
    conn.execute("PRAGMA foreign_keys = OFF")
    code = conn.execute("SELECT id FROM codes LIMIT 1").fetchone()[0]
    conn.execute("INSERT INTO codings (segment_id, code_id, coder, origin, created_at) "
                 "VALUES (999999, ?, 'ghost', 'manual', '2026-01-01')", (code,))
    conn.commit()
    conn.close()
    assert "0 matches" in run(demo, "search", "seat").output
    found = CliRunner().invoke(cli, ["check", "--study", str(demo.root)])
    assert found.exit_code == 1
    assert "full-text index" in found.output and "codings row" in found.output
    fixed = CliRunner().invoke(cli, ["check", "--repair", "--study", str(demo.root)])
    assert fixed.exit_code == 0, fixed.output
    assert "rebuilt the full-text index" in fixed.output and "deleted 1 row" in fixed.output
    assert "1 match for" in run(demo, "search", "seat").output
    assert run(demo, "check").exit_code == 0
    assert "before-repair" in run(demo, "backup", "list").output


def test_a_damaged_database_is_found_by_check_and_recovered_from_a_snapshot(demo):
    assert run(demo, "backup", "create").exit_code == 0
    data = bytearray(demo.db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for at in range(page, len(data), page):
        data[at + 8:at + 64] = b"\xa5" * 56
    demo.db_path.write_bytes(bytes(data))
    found = CliRunner().invoke(cli, ["check", "--study", str(demo.root)])
    assert found.exit_code == 1 and "Traceback" not in found.output
    assert "backup restore" in found.stderr
    restored = run(demo, "backup", "restore", "--yes")
    assert restored.exit_code == 0, restored.output
    assert run(demo, "check").exit_code == 0
    assert _status(demo)["transcripts"] == 1


def test_a_bad_file_does_not_keep_the_workbench_closed(demo):
    path = demo.transcripts_dir / "bad.md"
    path.write_text("---\ndate: 2024-13-45\n---\nAna: hi\n", encoding="utf-8")
    before = fingerprint(demo.root)
    result = CliRunner().invoke(cli, ["tui", "--study", str(demo.root)], catch_exceptions=False)
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "coder: warning: " in result.stderr and "bad.md:2:" in result.stderr
    assert "the workbench opens the study as it was" in result.stderr
    assert "1 transcript" in result.stdout  # the study as it was
    assert fingerprint(demo.root) == before


def test_a_database_overwritten_with_garbage_is_restored_from_the_newest_snapshot(demo):
    import os

    assert run(demo, "backup", "create").exit_code == 0
    demo.db_path.write_bytes(os.urandom(8192))
    line = refused(demo, "status", names=demo.db_path, reason="not an SQLite database")
    assert "backup restore" in line
    restored = run(demo, "backup", "restore", "--yes")
    assert restored.exit_code == 0, restored.output
    assert _status(demo)["transcripts"] == 1
    kept = list((demo.root / ".coder-backups").glob("coder.db.damaged-*"))
    assert len(kept) == 1 and kept[0].stat().st_size == 8192  # the damaged copy, kept


def test_restore_with_replay_brings_back_the_coding_done_after_the_snapshot(demo):
    import sqlite3

    assert run(demo, "backup", "create").exit_code == 0
    for args in (["code", "apply", "ephrata-interview", "2", "need targeted PD"],
                 ["code", "apply", "ephrata-interview", "4", "islands of innovation"],
                 ["code", "remove", "ephrata-interview", "4", "islands of innovation"],
                 ["code", "apply", "ephrata-interview", "5", "seat-time mandates"],
                 ["review", "ephrata-interview", "--segments", "1-3"],
                 ["memo", "set", "a thought", "--whole-study"]):
        assert run(demo, *args).exit_code == 0, args
    wanted = run(demo, "codings", "export").output
    conn = sqlite3.connect(demo.db_path)  # damage the search index's pages
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = "
                        "'segments_fts_data'").fetchone()[0]
    conn.close()
    data = bytearray(demo.db_path.read_bytes())
    at = (root - 1) * page_size
    data[at:at + page_size] = b"\xa5" * page_size
    demo.db_path.write_bytes(bytes(data))
    assert CliRunner().invoke(cli, ["check", "--study", str(demo.root)]).exit_code == 1
    result = run(demo, "backup", "restore", "--yes", "--replay")
    assert result.exit_code == 0, result.output
    # 4 codings and their reviewed marks (coded means looked at), 1 removal, 2 new marks
    assert "Replayed 9 coding and reviewed-mark change(s)" in result.output
    assert "Not replayed (redo them by hand): 1 memo.add" in result.output
    assert run(demo, "codings", "export").output == wanted
    assert _status(demo)["coders"][0]["reviewed"] == 5  # ¶1-3 reviewed, ¶4-5 coded
    assert run(demo, "check").exit_code == 0


def test_a_refi_project_whose_user_names_hold_control_characters_is_refused(demo, tmp_path):
    import zipfile

    assert run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD").exit_code == 0
    good = _qdpx(demo, tmp_path)
    with zipfile.ZipFile(good) as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    members["project.qde"] = members["project.qde"].replace(b'name="tester"',
                                                            b'name="tester&#155;2J"')
    bad = _zip(tmp_path / "users.qdpx", members)
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(cli, ["init", str(fresh), "--from", str(bad)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "users.qdpx" in result.stderr and "control characters" in result.stderr
    assert "\x9b" not in result.output and not fresh.exists()
