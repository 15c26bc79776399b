"""REFI-QDA export (.qdc, .qdpx): schema validity, stable GUIDs, round trip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from coder.study import init_study
from conftest import SHARED, open_store, requires_shared, run

REFI = SHARED / "refi-qda"


def _coded(demo):
    """The demo study with two coders' codings (one with a span and a memo) and memos."""
    for args, coder in [
        (("code", "apply", "ephrata-interview", "2", "need targeted PD", "--memo", "asks"),
         "ana"),
        (("code", "apply", "ephrata-interview", "4", "islands of innovation"), "ana"),
        (("code", "apply", "ephrata-interview", "2", "need targeted PD"), "bo"),
        (("code", "apply", "ephrata-interview", "5", "seat-time mandates"), "bo"),
        (("memo", "set", "--segment", "ephrata-interview", "3", "a question"), "ana"),
        (("memo", "set", "--code", "need targeted PD", "a code memo"), "bo"),
        (("memo", "set", "--transcript", "ephrata-interview", "a transcript memo"), "ana"),
        (("memo", "set", "--whole-study", "a study memo"), "ana"),
    ]:
        result = run(demo, *args, coder=coder)
        assert result.exit_code == 0, result.output
    with open_store(demo) as store:
        seg = store.one("SELECT s.id, s.start FROM segments s WHERE ordinal = 4")
        with store.transaction():
            from coder.store.codings import apply_coding

            code = store.scalar("SELECT id FROM codes WHERE name = 'need targeted PD'")
            apply_coding(store, seg["id"], code, coder="bo", span=(seg["start"] + 7,
                                                                   seg["start"] + 30))
    return demo


@pytest.fixture
def coded(demo):
    return _coded(demo)


def _schema(name: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(REFI / name)))


@requires_shared
def test_exports_are_valid_against_the_schemas(coded, tmp_path: Path):
    from lxml import etree

    assert run(coded, "export", "qdc", str(tmp_path / "c.qdc")).exit_code == 0
    result = run(coded, "export", "qdpx", str(tmp_path / "p.qdpx"))
    assert result.exit_code == 0, result.output
    assert "4 codings" in result.output or "5 codings" in result.output
    _schema("Codebook.xsd").assertValid(etree.parse(str(tmp_path / "c.qdc")))
    with zipfile.ZipFile(tmp_path / "p.qdpx") as archive:
        qde = etree.fromstring(archive.read("project.qde"))
        names = archive.namelist()
    _schema("Project.xsd").assertValid(qde)
    assert names[0] == "project.qde" and len(names) == 2
    assert names[1].startswith("sources/") and names[1].endswith(".txt")


def test_qdpx_contents(coded, tmp_path: Path):
    from lxml import etree

    out = tmp_path / "p.qdpx"
    assert run(coded, "export", "qdpx", str(out)).exit_code == 0
    ns = {"q": "urn:QDA-XML:project:1.0"}
    with zipfile.ZipFile(out) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        source = root.find("q:Sources/q:TextSource", ns)
        guid = source.get("guid")
        assert source.get("plainTextPath") == f"internal://{guid}.txt"
        text = archive.read(f"sources/{guid}.txt").decode("utf-8")
    with open_store(coded) as store:
        assert text == store.scalar("SELECT text FROM transcripts")
        seg2 = store.one("SELECT start, end, text FROM segments WHERE ordinal = 2")
    users = {u.get("guid"): u.get("name") for u in root.iterfind("q:Users/q:User", ns)}
    assert set(users.values()) == {"ana", "bo", "tester"}
    selections = source.findall("q:PlainTextSelection", ns)
    by_user = {(users[s.get("creatingUser")], int(s.get("startPosition")),
                int(s.get("endPosition"))) for s in selections}
    assert ("ana", seg2["start"], seg2["end"]) in by_user
    assert ("bo", seg2["start"], seg2["end"]) in by_user
    for sel in selections:
        for coding in sel.findall("q:Coding", ns):
            assert users[coding.get("creatingUser")] == users[sel.get("creatingUser")]
            assert coding.find("q:CodeRef", ns) is not None
    codes = root.find("q:CodeBook/q:Codes", ns)
    top = [c.get("name") for c in codes.findall("q:Code", ns)]
    assert top == ["professional development", "school operations"]
    child = codes.find("q:Code/q:Code", ns)
    assert child.get("name") == "need targeted PD"
    assert child.find("q:Description", ns).text.startswith("Teachers ask for PD")
    cases = {c.get("name"): c for c in root.iterfind("q:Cases/q:Case", ns)}
    assert {"Dr. Jane Roe", "Mark Lee", "Interviewer"} <= set(cases)
    assert len(cases["Mark Lee"].findall("q:VariableValue", ns)) == 2
    notes = root.findall("q:Notes/q:Note", ns)
    assert len(notes) == 5  # 4 memos and one coding memo
    assert root.find("q:NoteRef", ns) is not None  # the study memo


def test_guids_are_stable_across_exports(coded, tmp_path: Path):
    assert run(coded, "export", "qdpx", str(tmp_path / "a.qdpx")).exit_code == 0
    assert run(coded, "export", "qdpx", str(tmp_path / "b.qdpx")).exit_code == 0
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    assert run(coded, "export", "qdc", str(tmp_path / "a.qdc")).exit_code == 0
    assert run(coded, "code", "add", "new one").exit_code == 0
    assert run(coded, "export", "qdc", str(tmp_path / "b.qdc")).exit_code == 0
    old, new = (_guids(tmp_path / name) for name in ("a.qdc", "b.qdc"))
    assert len(old) == 5 and new == {**old, "new one": new["new one"]}
    other = init_study(tmp_path / "other", "Another study")
    assert run(other, "code", "add", "new one").exit_code == 0
    assert run(other, "export", "qdc", str(tmp_path / "c.qdc")).exit_code == 0
    assert _guids(tmp_path / "c.qdc")["new one"] != new["new one"]


def _guids(path: Path) -> dict[str, str]:
    import re

    pairs = re.findall(r'guid="([^"]+)" name="([^"]+)"', path.read_text())
    return {name: guid for guid, name in pairs}


def test_export_needs_codes_for_qdc(study, tmp_path: Path):
    result = run(study, "export", "qdc", str(tmp_path / "c.qdc"))
    assert result.exit_code == 1 and "no codes" in result.output
    assert not (tmp_path / "c.qdc").exists()


def _state(study) -> dict:
    with open_store(study) as store:
        return {
            "texts": sorted(({**r, "metadata": json.loads(r["metadata"])} for r in store.rows(
                "SELECT name, text, metadata, imported_at FROM transcripts")), key=repr),
            "codes": store.rows(
                """SELECT c.name, p.name AS parent, c.definition, c.include, c.exclude,
                          c.examples, c.color, c.exclusive, c.codable FROM codes c
                   LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.name"""),
            "codings": sorted(store.rows(
                """SELECT t.name AS t, s.ordinal, c.name AS code, g.coder, g.memo,
                          g.span_start AS a, g.span_end AS b
                   FROM codings g JOIN segments s ON s.id = g.segment_id
                   JOIN transcripts t ON t.id = s.transcript_id
                   JOIN codes c ON c.id = g.code_id"""), key=repr),
            "memos": sorted((m["kind"], m["coder"], m["text"]) for m in store.rows(
                "SELECT * FROM memos")),
            "attributes": store.rows(
                """SELECT sp.name, a.key, a.value FROM speaker_attributes a
                   JOIN speakers sp ON sp.id = a.speaker_id ORDER BY 1, 2"""),
        }


def test_round_trip(coded, tmp_path: Path):
    out = tmp_path / "p.qdpx"
    assert run(coded, "export", "qdpx", str(out)).exit_code == 0
    fresh = init_study(tmp_path / "fresh", "Test study")
    result = run(fresh, "import-qdpx", str(out))
    assert result.exit_code == 0, result.output
    assert "Unicode code points" in result.output
    before, after = _state(coded), _state(fresh)
    assert after["texts"] == before["texts"]
    assert after["codes"] == before["codes"]
    fields = {c["name"]: c for c in after["codes"]}
    assert fields["need targeted PD"]["definition"] == \
        "Teachers ask for PD aimed at their own needs."
    assert fields["need targeted PD"]["include"] == "Requests for specific, job-embedded training."
    assert fields["need targeted PD"]["examples"] == \
        '["they would benefit from even more targeted PD"]'
    assert after["codings"] == before["codings"]
    assert after["memos"] == before["memos"]
    assert after["attributes"] == before["attributes"]
    # exporting the imported study gives the same sources, codes and codings again
    again = tmp_path / "again.qdpx"
    assert run(fresh, "export", "qdpx", str(again)).exit_code == 0
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(again) as b:
        assert a.namelist() == b.namelist()
        assert _selections(a) == _selections(b)
    # importing the same file again adds nothing
    assert run(fresh, "import-qdpx", str(out)).exit_code == 0
    assert _state(fresh)["codings"] == after["codings"]


def _selections(archive: zipfile.ZipFile) -> set[tuple]:
    from lxml import etree

    root = etree.fromstring(archive.read("project.qde"))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    users = {u.get("guid"): u.get("name") for u in root.iterfind("q:Users/q:User", ns)}
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", ns)}
    return {(s.getparent().get("guid"), s.get("startPosition"), s.get("endPosition"),
             users[c.get("creatingUser")], codes[c.find("q:CodeRef", ns).get("targetGUID")])
            for s in root.iterfind(".//q:PlainTextSelection", ns)
            for c in s.iterfind("q:Coding", ns)}


def test_import_qdc_only_codes(coded, tmp_path: Path):
    out = tmp_path / "p.qdpx"
    assert run(coded, "export", "qdpx", str(out)).exit_code == 0
    fresh = init_study(tmp_path / "fresh", "Other")
    result = run(fresh, "import-qdc", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    state = _state(fresh)
    assert len(state["codes"]) == 5 and not state["texts"] and not state["codings"]


def test_round_trip_keeps_spans_after_characters_outside_the_bmp(study, tmp_path: Path):
    from coder.store.codings import apply_coding

    text = "Ana: 😀😀 I love the 🎉 new schedule, really.\n\nBo: 😀 It is fine, I guess.\n"
    (study.transcripts_dir / "emoji.md").write_text(text, encoding="utf-8")
    assert run(study, "sync").exit_code == 0
    assert run(study, "code", "add", "schedule").exit_code == 0
    with open_store(study) as store, store.transaction():
        stored = store.scalar("SELECT text FROM transcripts")
        seg = store.scalar("SELECT id FROM segments WHERE ordinal = 1")
        a = stored.index("new schedule")
        apply_coding(store, seg, store.scalar("SELECT id FROM codes"), coder="ana",
                     span=(a, a + len("new schedule")))
    for offsets, words in (("codepoints", "Unicode code points"), ("utf16", "UTF-16 units"),
                           ("utf8", "UTF-8 bytes")):
        out = tmp_path / f"{offsets}.qdpx"
        assert run(study, "export", "qdpx", str(out), "--offsets", offsets).exit_code == 0
        fresh = init_study(tmp_path / offsets, "Fresh")
        result = run(fresh, "import-qdpx", str(out))
        assert result.exit_code == 0 and words in result.output, result.output
        assert _state(fresh)["codings"] == _state(study)["codings"]
