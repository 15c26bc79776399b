"""REFI-QDA import: what other tools really write, hostile files, and the shared samples."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from conftest import SHARED, open_store, requires_shared, run, snapshot

REFI = SHARED / "refi-qda"
USER = "{AD68FBE7-E1EE-4A82-A279-23CC698C89EB}"
CODE = "85D17F60-7BB0-481E-B742-B4861DD669DF"
CHILD = "0983e32e-6866-431a-bd94-dac9bb963825"

# Two lines of text: an emoji outside the BMP in the first, so UTF-16 offsets differ.
LINES = ["Ana: I love it 😀 really.", "Bo: It was a waste of time.", "Ana: Not for me."]


def _qde(path_attr: str, start: int, end: int, ns: str = "urn:QDA-XML:project:1.0",
         name: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{ns}" name="quirks" origin="Tool 1.0">
  <Users><User guid="{USER}" name="Friedrich"/></Users>
  <CodeBook><Codes>
    <Code guid="{CODE}" name="happiness" isCodable="true" color="#F0A">
      <Description>feeling good</Description>
      <Code guid="{{{CHILD.upper()}}}" name="joy" isCodable="true" color="rgb(10, 20, 30)"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="11111111-2222-3333-4444-555555555555" name="talk" {path_attr}>
      <PlainTextSelection guid="{{99999999-2222-3333-4444-555555555555}}" name="{name}"
          startPosition="{start}" endPosition="{end}" creatingUser="{USER.lower()}">
        <Coding guid="88888888-2222-3333-4444-555555555555" creatingUser="{USER}">
          <CodeRef targetGUID="{CHILD}"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="77777777-2222-3333-4444-555555555555"
          startPosition="5000" endPosition="5010">
        <Coding guid="66666666-2222-3333-4444-555555555555"><CodeRef targetGUID="{CODE}"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
    <PDFSource guid="55555555-2222-3333-4444-555555555555" name="paper.pdf"/>
  </Sources>
  <Notes><Note guid="44444444-2222-3333-4444-555555555555" name="Plan" creatingUser="{USER}">
    <PlainTextContent>Study plan.</PlainTextContent></Note></Notes>
  <Sets/>
</Project>""".encode()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _codings(study) -> list[dict]:
    with open_store(study) as store:
        return store.rows(
            """SELECT c.name AS code, g.coder, g.span_start, g.span_end, s.ordinal,
                      substr(t.text, coalesce(g.span_start, s.start) + 1,
                             coalesce(g.span_end, s.end) - coalesce(g.span_start, s.start))
                      AS quote
               FROM codings g JOIN codes c ON c.id = g.code_id
               JOIN segments s ON s.id = g.segment_id
               JOIN transcripts t ON t.id = s.transcript_id ORDER BY s.ordinal""")


def test_nvivo_windows_quirks_utf16_crlf_bom_capital_sources(study, tmp_path: Path):
    raw = "\r\n".join(LINES) + "\r\n"
    second = raw.index("Bo:")
    start = len(raw[:second].encode("utf-16-le")) // 2  # UTF-16 units, CRLF as two
    end = start + len(LINES[1])
    qdpx = _zip(tmp_path / "nvivo.qdpx", {
        "Project-export.qde": _qde('plainTextPath="internal://11111111-2222-3333-4444-'
                                   '555555555555.txt"', start, end),
        "Sources/11111111-2222-3333-4444-555555555555.TXT": b"\xef\xbb\xbf" + raw.encode(),
    })
    result = run(study, "import-qdpx", str(qdpx))
    assert result.exit_code == 0, result.output
    assert "UTF-16 units" in result.output and "detected" in result.output
    assert "PDF source 'paper.pdf'" in result.output
    assert "selection 'talk' [5000, 5010): outside the text" in result.output
    [coding] = _codings(study)
    # the selection covers the turn (label and words): a whole-segment coding
    assert coding["quote"] == "It was a waste of time." and coding["span_start"] is None
    assert coding["coder"] == "Friedrich" and coding["code"] == "joy"
    with open_store(study) as store:
        assert store.scalar("SELECT text FROM transcripts") == "\n".join(LINES) + "\n"
        codes = {r["name"]: r for r in store.rows("SELECT * FROM codes")}
        memo = store.one("SELECT * FROM memos")
    assert codes["happiness"]["color"] == "#ff00aa"
    assert codes["joy"]["color"] == "#0a141e"
    assert codes["joy"]["parent_id"] == codes["happiness"]["id"]
    assert codes["happiness"]["definition"] == "feeling good"
    assert memo["kind"] == "study" and memo["text"] == "Plan\n\nStudy plan."
    # forcing code points reads the same offsets differently
    forced = run(study, "import-qdpx", str(qdpx), "--offsets", "codepoints")
    assert forced.exit_code == 0 and "as asked" in forced.output


def test_codepoints_plain_path_old_namespace_lowercase_folder(study, tmp_path: Path):
    raw = "\n".join(LINES)
    start = raw.index("Bo:")
    qdpx = _zip(tmp_path / "qc.qdpx", {
        "project.qde": _qde('plainTextPath="talk.txt"', start, start + len(LINES[1]),
                            ns="urn:QDA-XML:project:0:4", name=LINES[1]),
        "sources/talk.txt": raw.encode(),
    })
    result = run(study, "import-qdpx", str(qdpx), "--segment", "paragraph")
    assert result.exit_code == 0, result.output
    assert "Unicode code points" in result.output
    assert [(c["quote"], c["span_start"]) for c in _codings(study)] == [(LINES[1][4:], None)]


def test_plain_text_content_and_codebook_namespace(study, tmp_path: Path):
    qde = tmp_path / "inline.qde"
    text = "\n\n".join(["First paragraph about joy.", "Second one."])
    qde.write_bytes(_qde("", 0, 26).replace(
        b'name="talk" >', f'name="talk"><PlainTextContent>{text}</PlainTextContent>'.encode()))
    result = run(study, "import-qdpx", str(qde))
    assert result.exit_code == 0, result.output
    assert [(c["ordinal"], c["quote"]) for c in _codings(study)] == \
        [(1, "First paragraph about joy.")]
    qdc = tmp_path / "old.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>'
                   '<Code guid="{A2209CFF-8E89-5B0A-A7B0-CDDC4BE92936}" name="new code" '
                   'isCodable="true" color="#AABBCCDD"/></Codes><Sets/></CodeBook>')
    assert run(study, "import-qdc", str(qdc)).exit_code == 0
    with open_store(study) as store:
        assert store.scalar("SELECT color FROM codes WHERE name = 'new code'") == "#bbccdd"


def test_selection_over_two_segments_codes_each_with_its_part(study, tmp_path: Path):
    raw = "\n".join(LINES)
    start, end = raw.index("waste"), raw.index("for me")
    qdpx = _zip(tmp_path / "p.qdpx", {
        "project.qde": _qde('plainTextPath="internal://x.txt"', start, end),
        "sources/x.txt": raw.encode(),
    })
    assert run(study, "import-qdpx", str(qdpx)).exit_code == 0
    codings = _codings(study)
    assert [c["ordinal"] for c in codings] == [2, 3]
    # a span stays inside its segment: each segment gets the part of the selection it holds
    assert [c["quote"] for c in codings] == ["waste of time.", "Not "]


# -- hostile files ----------------------------------------------------------------------------
def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", b"<Project name='x'/>")
        archive.writestr("sources/big.txt", b"\0" * (4 * 2**20))
    return path


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Project name="&x;"/>"""


@pytest.mark.parametrize("case, expected", [
    ("traversal", "unsafe paths"),
    ("absolute", "unsafe paths"),
    ("bomb", "zip bomb"),
    ("laughs", "DOCTYPE"),
    ("external", "DOCTYPE"),
    ("laughs-in-zip", "DOCTYPE"),
    ("not-zip", "not valid XML"),
    ("no-qde", "no .qde"),
    ("other-xml", "not a REFI-QDA"),
])
def test_hostile_files_are_refused_and_nothing_is_written(demo, tmp_path: Path, case: str,
                                                          expected: str):
    path = tmp_path / f"{case}.qdpx"
    good = _qde("", 0, 1)
    if case == "traversal":
        _zip(path, {"project.qde": good, "../evil.txt": b"x"})
    elif case == "absolute":
        _zip(path, {"project.qde": good, "/etc/evil.txt": b"x"})
    elif case == "bomb":
        _bomb(path)
    elif case in ("laughs", "external"):
        path = tmp_path / f"{case}.qde"
        path.write_bytes(LAUGHS if case == "laughs" else EXTERNAL)
    elif case == "laughs-in-zip":
        _zip(path, {"project.qde": LAUGHS})
    elif case == "not-zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    elif case == "no-qde":
        _zip(path, {"readme.txt": b"hello"})
    else:
        path.write_bytes(b"<html><body>hi</body></html>")
    before = snapshot(demo)
    result = run(demo, "import-qdpx", str(path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and path.name in lines[0], result.output
    assert snapshot(demo) == before


def test_export_is_atomic(demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "p.qdpx"
    out.write_bytes(b"old")
    import coder.exchange.write as write

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.zipfile.ZipFile, "writestr", boom)
    result = run(demo, "export", "qdpx", str(out))
    assert result.exit_code == 1 and "No space left" in result.output
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.qdpx", "study"]  # no temp file


# -- the real files in ../shared/refi-qda --------------------------------------------------
def _counts(study) -> dict[str, int]:
    with open_store(study) as store:
        return {t: store.scalar(f"SELECT count(*) FROM {t}")
                for t in ("codes", "transcripts", "codings", "memos")}


@requires_shared
def test_nvivo_sample(study):
    result = run(study, "import-qdpx", str(REFI / "nvivo-win-12.6_oltas0517.qdpx"))
    assert result.exit_code == 0, result.output
    assert "UTF-16 units (CRLF as two) (detected)" in result.output
    counts = _counts(study)
    assert counts["codes"] == 152 and counts["transcripts"] == 2
    assert "303 codings from 303 selections" in result.output and counts["codings"] == 303
    with open_store(study) as store:
        spans = store.rows("""SELECT DISTINCT t.text, g.span_start AS a, g.span_end AS b
                              FROM codings g JOIN segments s ON s.id = g.segment_id
                              JOIN transcripts t ON t.id = s.transcript_id""")
        coders = {r["coder"] for r in store.rows("SELECT DISTINCT coder FROM codings")}
        nested = store.scalar("SELECT count(*) FROM codes WHERE parent_id IS NOT NULL")
    assert coders == {"Gergo"} and nested > 100
    on_lines = sum((s["a"] == 0 or s["text"][s["a"] - 1] == "\n")
                   and (s["b"] == len(s["text"]) or s["text"][s["b"]] == "\n") for s in spans)
    assert (len(spans), on_lines) == (188, 169)  # 303 selections on 188 distinct spans


@requires_shared
def test_qualcoder_like_sample(study):
    result = run(study, "import-qdpx", str(REFI / "qc-1.3.2_demo.qdpx"))
    assert result.exit_code == 0, result.output
    counts = _counts(study)
    assert counts["codes"] == 262 and counts["transcripts"] == 2
    assert "158 selections" in result.output and counts["codings"] == 205
    assert "Unicode code points" in result.output


@requires_shared
def test_atlas_ti_sample_without_sources(study):
    result = run(study, "import-qdpx", str(REFI / "atlasti-8.4-mac_refi-standard-project.qde"))
    assert result.exit_code == 0, result.output
    assert _counts(study) == {"codes": 14, "transcripts": 0, "codings": 0, "memos": 1}
    for kind in ("picture source", "PDF source", "audio source", "video source",
                 "Links (1)", "Sets (16)", "Graphs (1)"):
        assert kind in result.output
    assert result.output.count("a .qde without its sources") == 6


@requires_shared
def test_maxqda_and_taguette_samples(study):
    result = run(study, "import-qdpx", str(REFI / "maxqda-24.7_icls-themes-project.qde"))
    assert result.exit_code == 0, result.output
    assert _counts(study)["codes"] == 307
    with open_store(study) as store:
        assert store.scalar("SELECT count(*) FROM codes WHERE color LIKE '#______'") == 307
        assert store.scalar("SELECT count(*) FROM codes WHERE definition != ''") == 307
    result = run(study, "import-qdc", str(REFI / "taguette-1.4.1_codebook.qdc"))
    assert result.exit_code == 0, result.output
    assert "3 new codes" in result.output
    assert _counts(study)["codes"] == 310


def test_export_then_bytes_are_a_zip(demo, tmp_path: Path):
    out = tmp_path / "p.qdpx"
    assert run(demo, "export", "qdpx", str(out)).exit_code == 0
    assert zipfile.is_zipfile(io.BytesIO(out.read_bytes()))


def test_same_name_other_text_is_imported_under_a_new_name(study, tmp_path: Path):
    for k, text in enumerate(["Ana: first text.", "Ana: other text."]):
        qdpx = _zip(tmp_path / f"{k}.qdpx", {"project.qde": _qde('plainTextPath="t.txt"', 5, 10),
                                            "sources/t.txt": text.encode()})
        result = run(study, "import-qdpx", str(qdpx))
        assert result.exit_code == 0, result.output
    assert "imported as 'talk (2)'" in result.output
    with open_store(study) as store:
        assert [r["name"] for r in store.rows("SELECT name FROM transcripts ORDER BY 1")] == \
            ["talk", "talk (2)"]
    again = run(study, "import-qdpx", str(qdpx))  # the same file again: nothing new
    assert "(+1 already here)" in again.output and "0 codings" in again.output


def test_reviewed_lets_agreement_count_imported_codings(study, tmp_path: Path):
    raw = "\n".join(LINES)
    start = raw.index("Bo:")
    qdpx = _zip(tmp_path / "p.qdpx", {"project.qde": _qde('plainTextPath="t.txt"', start,
                                                          start + len(LINES[1])),
                                      "sources/t.txt": raw.encode()})
    result = run(study, "import-qdpx", str(qdpx), "--reviewed")
    assert result.exit_code == 0, result.output
    assert "3 segments marked reviewed" in result.output
    with open_store(study) as store:
        assert store.rows("SELECT DISTINCT coder FROM reviewed") == [{"coder": "Friedrich"}]
