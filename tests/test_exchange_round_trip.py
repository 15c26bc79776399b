"""REFI-QDA regressions: coder -> coder round trips, and each defect of issue #15 rebuilt
from a small file that reproduces it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import open_store, run
from test_exchange import _coded, _state

GROUP = """\
codes:
  - name: stance
    definition: Where the speaker stands on the program.
    exclusive: true
    children:
      - name: for it
      - name: against it
"""


@pytest.fixture
def rich(demo, tmp_path: Path):
    """The coded demo plus an exclusive group with a choice applied, and a span coding."""
    study = _coded(demo)
    group = tmp_path / "group.yaml"
    group.write_text(GROUP, encoding="utf-8")
    assert run(study, "codebook", "load", str(group)).exit_code == 0
    assert run(study, "code", "apply", "ephrata-interview", "5", "against it").exit_code == 0
    return study


def _export(study, path: Path, *args: str) -> Path:
    result = run(study, "export", "qdpx", str(path), *args)
    assert result.exit_code == 0, result.output
    return path


def test_reimport_into_the_originating_study_adds_nothing(rich, tmp_path: Path):
    """Defect 1: the stored source file's hash (with front matter) is not the text's."""
    first = _export(rich, tmp_path / "a.qdpx")
    before = _state(rich)
    result = run(rich, "import-qdpx", str(first))
    assert result.exit_code == 0, result.output
    assert "0 transcripts (+1 already here), 0 codings" in result.output
    assert "imported as" not in result.output
    assert _state(rich) == before
    again = _export(rich, tmp_path / "b.qdpx")
    assert again.read_bytes() == first.read_bytes()


def test_fresh_study_gets_every_field_back_and_exports_the_same_bytes(rich, tmp_path: Path):
    first = _export(rich, tmp_path / "a.qdpx")
    from click.testing import CliRunner

    from coder.cli import cli
    from coder.study import open_study

    result = CliRunner().invoke(cli, ["init", str(tmp_path / "fresh"), "--from", str(first)])
    assert result.exit_code == 0, result.output
    assert "Study 'Test study' ready" in result.output  # the project's name: the same GUIDs
    fresh_study = open_study(tmp_path / "fresh")
    before, after = _state(rich), _state(fresh_study)
    assert after == before
    codes = {c["name"]: c for c in after["codes"]}
    assert codes["stance"]["exclusive"] == 1 and codes["for it"]["exclusive"] == 0
    assert codes["need targeted PD"]["exclude"] == "Praise of existing PD (use PD seen as " \
        "effective)."
    spans = {(c["code"], c["coder"], c["a"] is None) for c in after["codings"]}
    assert ("islands of innovation", "ana", True) in spans  # a whole-segment coding
    assert {("need targeted PD", "bo", True), ("need targeted PD", "bo", False)} <= spans
    second = _export(fresh_study, tmp_path / "b.qdpx")
    assert second.read_bytes() == first.read_bytes()
    # and into the fresh study again: nothing new
    result = run(fresh_study, "import-qdpx", str(first))
    assert "0 codings" in result.output and _state(fresh_study) == after


def test_one_coding_per_selection_round_trips(rich, tmp_path: Path):
    from lxml import etree

    out = _export(rich, tmp_path / "one.qdpx", "--one-coding-per-selection")
    with zipfile.ZipFile(out) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    selections = root.findall(".//q:PlainTextSelection", ns)
    assert all(len(s.findall("q:Coding", ns)) <= 1 for s in selections)
    assert len({s.get("guid") for s in selections}) == len(selections)
    assert sum(len(s.findall("q:Coding", ns)) for s in selections) == \
        len(_state(rich)["codings"])
    from coder.study import init_study

    fresh = init_study(tmp_path / "fresh", "Test study")
    assert run(fresh, "import-qdpx", str(out)).exit_code == 0
    assert _state(fresh)["codings"] == _state(rich)["codings"]


# -- files that reproduce each defect ---------------------------------------------------------
def _project(codes: str, sources: str, origin: str = "coder", notes: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Test study" origin="{origin}">
  <Users><User guid="00000000-0000-0000-0000-00000000000a" name="ana"/></Users>
  <CodeBook><Codes>{codes}</Codes></CodeBook>
  <Sources>{sources}</Sources>{notes}
</Project>""".encode()


def _qdpx(path: Path, qde: bytes, texts: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        for name, text in texts.items():
            archive.writestr(f"sources/{name}", text.encode("utf-8"))
    return path


def _source(name: str, path: str, selections: str) -> str:
    return (f'<TextSource guid="00000000-0000-0000-0000-0000000000{len(name):02d}" '
            f'name="{name}" plainTextPath="internal://{path}">{selections}</TextSource>')


def _selection(start: object, end: object, *codes: str, guid: str = "1") -> str:
    codings = "".join(f'<Coding guid="00000000-0000-0000-0001-00000000000{k}" '
                      f'creatingUser="00000000-0000-0000-0000-00000000000a">'
                      f'<CodeRef targetGUID="{c}"/></Coding>' for k, c in enumerate(codes))
    return (f'<PlainTextSelection guid="00000000-0000-0000-0002-00000000000{guid}" '
            f'startPosition="{start}" endPosition="{end}" '
            f'creatingUser="00000000-0000-0000-0000-00000000000a">{codings}</PlainTextSelection>')


A = "00000000-0000-0000-0000-0000000000a1"
B = "00000000-0000-0000-0000-0000000000b2"
CODES = f'<Code guid="{A}" name="alpha" isCodable="true"/><Code guid="{B}" name="beta" ' \
        'isCodable="true"/>'
TEXT = "Ana: I like the new schedule.\n\nBo: I do not.\n"


def _coding_rows(study) -> list[dict]:
    with open_store(study) as store:
        return store.rows(
            """SELECT t.name AS t, s.ordinal, c.name AS code, g.span_start, g.span_end,
                      substr(t.text, coalesce(g.span_start, s.start) + 1,
                             coalesce(g.span_end, s.end) - coalesce(g.span_start, s.start))
                      AS quote
               FROM codings g JOIN segments s ON s.id = g.segment_id
               JOIN transcripts t ON t.id = s.transcript_id JOIN codes c ON c.id = g.code_id
               ORDER BY s.ordinal, c.name""")


def test_a_source_named_with_its_extension_is_the_transcript_without_it(study, tmp_path):
    """Defect 1 (names): `talk.txt` is the transcript `talk`, matched by its text."""
    (study.transcripts_dir / "talk.md").write_text(
        "---\nsite: north\n---\n" + TEXT, encoding="utf-8")
    assert run(study, "sync").exit_code == 0
    start = TEXT.index("I like")
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source(
        "talk.txt", "x.txt", _selection(start, start + 6, A)), origin="Tool"), {"x.txt": TEXT})
    result = run(study, "import-qdpx", str(qdpx))
    assert result.exit_code == 0, result.output
    assert "0 transcripts (+1 already here), 1 coding" in result.output
    assert [r["quote"] for r in _coding_rows(study)] == ["I like"]
    with open_store(study) as store:
        assert store.scalar("SELECT count(*) FROM transcripts") == 1


def test_is_codable_false_is_an_exclusive_group_from_coder_and_a_folder_from_others(
        study, tmp_path: Path):
    """Defect 2: isCodable was ignored."""
    group = (f'<Code guid="{A}" name="stance" isCodable="false"><Code guid="{B}" name="for" '
             'isCodable="true"/></Code>')
    for origin in ("coder", "NVivo 14"):
        qdc = tmp_path / f"{origin}.qdpx"
        _qdpx(qdc, _project(group.replace("stance", f"stance {origin}").replace(
            'name="for"', f'name="for {origin}"'), "", origin=origin), {})
        result = run(study, "import-qdc", str(qdc))
        assert result.exit_code == 0, result.output
        if origin != "coder":
            assert "not codable in the file (folders: 'stance NVivo 14')" in result.output
    with open_store(study) as store:
        kinds = {r["name"]: (r["exclusive"], r["codable"]) for r in store.rows(
            "SELECT name, exclusive, codable FROM codes")}
    assert kinds == {"stance coder": (1, 1), "for coder": (0, 1), "stance NVivo 14": (0, 0),
                     "for NVivo 14": (0, 1)}
    # a folder is not applied; its children are, and are not exclusive choices
    (study.transcripts_dir / "talk.md").write_text(TEXT, encoding="utf-8")
    assert run(study, "sync").exit_code == 0
    refused = run(study, "code", "apply", "talk", "1", "stance NVivo 14")
    assert refused.exit_code == 1 and "a folder for its child codes" in refused.output
    assert run(study, "code", "apply", "talk", "1", "for NVivo 14").exit_code == 0
    # and coder's export keeps the difference: a folder comes back a folder
    out = tmp_path / "again.qdpx"
    assert run(study, "export", "qdpx", str(out)).exit_code == 0
    from coder.study import init_study

    other = init_study(tmp_path / "other", "Test study")
    assert run(other, "import-qdpx", str(out)).exit_code == 0
    with open_store(other) as store:
        again = {r["name"]: (r["exclusive"], r["codable"], r["definition"]) for r in store.rows(
            "SELECT name, exclusive, codable, definition FROM codes")}
    assert again["stance NVivo 14"] == (0, 0, "") and again["stance coder"][:2] == (1, 1)


def test_description_fold_is_undone_for_coder_files_only(study, tmp_path: Path):
    """Defect 3: include, exclude and examples came back inside the definition."""
    folded = ("Talk about time.\n\nInclude: schedules\n\nExclude: money\n\n"
              "Example: the new schedule\n\nExample: two\n\nlines")
    for origin, name in (("coder", "timing"), ("MAXQDA 24", "other")):
        code = f'<Code guid="{A}" name="{name}" isCodable="true"><Description>{folded}' \
               '</Description></Code>'
        result = run(study, "import-qdc", str(_qdpx(tmp_path / f"{name}.qdpx",
                                                     _project(code, "", origin), {})))
        assert result.exit_code == 0, result.output
    with open_store(study) as store:
        rows = {r["name"]: r for r in store.rows("SELECT * FROM codes")}
    assert rows["timing"]["definition"] == "Talk about time."
    assert (rows["timing"]["include"], rows["timing"]["exclude"]) == ("schedules", "money")
    assert rows["timing"]["examples"] == '["the new schedule", "two\\n\\nlines"]'
    assert rows["other"]["definition"] == folded and rows["other"]["include"] == ""


def test_a_selection_covering_a_segment_is_a_whole_segment_coding(study, tmp_path: Path):
    """Defect 4: a selection of exactly a segment came back as a span coding."""
    (study.transcripts_dir / "talk.md").write_text(TEXT, encoding="utf-8")
    assert run(study, "sync").exit_code == 0
    with open_store(study) as store:
        seg = store.one("SELECT start, end FROM segments WHERE ordinal = 1")
    sels = _selection(seg["start"], seg["end"], A) + _selection(seg["start"], seg["end"] - 1,
                                                                 B, guid="2")
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source("talk", "t.txt", sels)),
                 {"t.txt": TEXT})
    assert run(study, "import-qdpx", str(qdpx)).exit_code == 0
    rows = {r["code"]: r for r in _coding_rows(study)}
    assert rows["alpha"]["span_start"] is None and rows["alpha"]["quote"] == \
        "I like the new schedule."
    assert rows["beta"]["span_start"] == seg["start"] and rows["beta"]["quote"] == \
        "I like the new schedule"


def test_a_utf16_end_inside_a_surrogate_pair_keeps_the_character(study, tmp_path: Path):
    """Defect 5: 'newline 🎉' came back as 'newline '."""
    text = "Ana: a newline 🎉 and more.\n"
    start = len(text[:text.index("newline")].encode("utf-16-le")) // 2
    emoji = len(text[:text.index("🎉")].encode("utf-16-le")) // 2
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source(
        "talk", "t.txt", _selection(start, emoji + 1, A)), origin="NVivo"), {"t.txt": text})
    result = run(study, "import-qdpx", str(qdpx), "--offsets", "utf16")
    assert result.exit_code == 0, result.output
    assert [r["quote"] for r in _coding_rows(study)] == ["newline 🎉"]
    from coder.exchange.offsets import Positions

    positions = Positions("a🎉b", "utf16")
    assert (positions.start(2), positions.end(2), positions.end(3)) == (1, 2, 2)
    positions = Positions("aé🎉b", "utf8")  # 1 + 2 + 4 + 1 bytes
    assert [positions.start(k) for k in (1, 2, 3, 4, 7)] == [1, 1, 2, 2, 3]
    assert [positions.end(k) for k in (2, 3, 4, 7, 8)] == [2, 2, 3, 3, 4]
    positions = Positions("a\r\nb🎉c", "utf16")  # stored as "a\nb🎉c"
    assert [positions.start(k) for k in (1, 2, 3, 4, 5, 6, 7)] == [1, 1, 2, 3, 3, 4, 5]
    assert [positions.end(k) for k in (2, 5, 7)] == [1, 4, 5] and positions.start(8) is None


def test_the_report_counts_and_names_what_was_lost(study, tmp_path: Path):
    """Defect 6: '0 codings from 0 selections' hid 56 lost codings."""
    text = "Ana: hello there.\n\n\n\nBo: bye.\n"
    gap = text.index("\n\n\n") + 1
    sels = (_selection(gap, gap + 2, A, B) + _selection(900, 950, A, guid="2")
            + _selection("1.5", "7", A, B, guid="3") + _selection(5, 10, A, guid="4"))
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source("talk", "t.txt", sels)),
                 {"t.txt": text})
    result = run(study, "import-qdpx", str(qdpx), "--segment", "paragraph")
    assert result.exit_code == 0, result.output
    assert "1 coding from 1 selection" in result.output
    assert "Cut by paragraph: talk (2 segments, 2 speakers)" in result.output  # the guess
    assert "Not imported: 5 codings in 3 selections" in result.output
    assert f"selection 'talk' [{gap}, {gap + 2}): outside every segment" in result.output
    assert "(2 codings lost)" in result.output
    assert "selection 'talk' [900, 950): outside the text (1 coding lost)" in result.output
    assert "offsets '1.5', '7' are not whole numbers (2 codings lost)" in result.output


def test_codes_sharing_a_guid_are_both_imported_and_their_codings_listed(study, tmp_path):
    """#14: a duplicated code GUID was silently attached to the last code of it."""
    codes = f'<Code guid="{A}" name="alpha" isCodable="true"/><Code guid="{A}" name="gamma" ' \
            'isCodable="true"/>'
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(codes, _source(
        "talk", "t.txt", _selection(5, 10, A)), origin="Tool"), {"t.txt": TEXT})
    result = run(study, "import-qdpx", str(qdpx))
    assert result.exit_code == 0, result.output
    assert "codes 'alpha', 'gamma' share the GUID" in result.output
    assert "several codes share its code's GUID" in result.output
    assert _coding_rows(study) == []
    with open_store(study) as store:
        assert store.scalar("SELECT count(*) FROM codes") == 2


def test_front_matter_of_a_markdown_source_is_metadata(study, tmp_path: Path):
    """A .md source's front matter became segment 1 and its keys speakers."""
    raw = "---\nfacilitator: Facilitator\nsite: north\n---\n" + TEXT
    start = raw.index("I like")
    sels = _selection(start, start + 6, A) + _selection(4, 15, B, guid="2")
    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source("talk.md", "t.md", sels),
                                                 origin="Tool"), {"t.md": raw})
    result = run(study, "import-qdpx", str(qdpx))
    assert result.exit_code == 0, result.output
    assert "front matter became the transcript's metadata (facilitator, site)" in result.output
    assert "in the front matter" in result.output
    with open_store(study) as store:
        row = store.one("SELECT name, text, metadata FROM transcripts")
        speakers = {r["name"] for r in store.rows("SELECT name FROM speakers")}
    assert row["name"] == "talk" and row["text"] == TEXT
    assert '"facilitator": "Facilitator"' in row["metadata"]
    assert speakers == {"Ana", "Bo"}
    assert [r["quote"] for r in _coding_rows(study)] == ["I like"]


def _taguette_rule(text: str) -> list[dict[str, str]]:
    """Taguette's codebook CSV rule (taguette/import_codebook.py): the header, lower-cased,
    has exactly one of tag/name/path; description and parent are optional columns; every
    row has enough cells and a non-empty tag."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.lower() for cell in rows[0]]
    assert sum(column in header for column in ("tag", "name", "path")) == 1, header
    tag = next(header.index(c) for c in ("tag", "name", "path") if c in header)
    assert "description" in header
    wanted = [tag, header.index("description")] + (
        [header.index("parent")] if "parent" in header else [])
    out = []
    for row in rows[1:]:
        assert len(row) > max(wanted) and row[tag].strip()
        out.append({"tag": row[tag], "description": row[header.index("description")],
                    "parent": row[header.index("parent")] if "parent" in header else ""})
    return out


def test_codebook_csv_for_taguette(demo):
    result = run(demo, "codebook", "export", "--format", "taguette-csv")
    assert result.exit_code == 0, result.output
    tags = _taguette_rule(result.output)
    assert [t["tag"] for t in tags] == ["professional development", "need targeted PD",
                                        "islands of innovation", "school operations",
                                        "seat-time mandates"]
    need = tags[1]
    assert need["parent"] == "professional development"
    assert need["description"].startswith("Teachers ask for PD aimed at their own needs.")
    assert "Include: Requests for specific" in need["description"]
    plain = run(demo, "codebook", "export", "--format", "csv").output
    with pytest.raises(AssertionError):  # coder's own CSV (name and path) is refused
        _taguette_rule(plain)


def test_selection_names_lines_for_qualitative_coding(rich, tmp_path: Path):
    """qc reads a selection's line only from a `line:N` name (else line 0)."""
    from lxml import etree

    out = _export(rich, tmp_path / "lines.qdpx", "--selection-names", "lines")
    with zipfile.ZipFile(out) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        ns = {"q": "urn:QDA-XML:project:1.0"}
        source = root.find(".//q:TextSource", ns)
        text = archive.read(f"sources/{source.get('guid')}.txt").decode()
    lines = text.split("\n")
    selections = source.findall("q:PlainTextSelection", ns)
    assert selections and all(s.get("name").startswith("line:") for s in selections)
    for sel in selections:
        n, a, b = (int(sel.get("name")[5:]), int(sel.get("startPosition")),
                   int(sel.get("endPosition")))
        assert "\n" not in text[a:b] and text[a:b] in lines[n] and text[a:b].strip()
    # the two-line turn of Dr. Jane Roe (segment 2) is coded on both of its lines
    with open_store(rich) as store:
        seg = store.one("SELECT start, end FROM segments WHERE ordinal = 2")
    first = text.count("\n", 0, seg["start"])
    named = {int(s.get("name")[5:]) for s in selections}
    assert {first, first + 1} <= named


def test_init_from_another_tool_keeps_the_folder_name(tmp_path: Path):
    from click.testing import CliRunner

    from coder.cli import cli

    qdpx = _qdpx(tmp_path / "p.qdpx", _project(CODES, _source(
        "talk", "t.txt", _selection(5, 10, A)), origin="NVivo 14").replace(
        b'name="Test study"', b'name="Untitled"'), {"t.txt": TEXT})
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "mine"), "--from", str(qdpx)])
    assert result.exit_code == 0, result.output
    assert "Study 'mine' ready" in result.output and "1 coding from 1 selection" in result.output


def test_a_coder_export_is_cut_as_it_was_exported(demo, tmp_path: Path):
    """A transcript cut by paragraph comes back cut by paragraph into a study whose default
    is turns, so its whole-segment codings stay whole."""
    from coder.study import init_study

    text = "Ana: First point.\n\nSecond point, same turn.\n\nBo: A reply.\n"
    (demo.transcripts_dir / "paras.md").write_text(text, encoding="utf-8")
    result = run(demo, "import", str(demo.transcripts_dir / "paras.md"), "--segment", "paragraph")
    assert result.exit_code == 0, result.output
    assert run(demo, "code", "apply", "paras", "2", "islands of innovation").exit_code == 0
    out = _export(demo, tmp_path / "p.qdpx")
    fresh = init_study(tmp_path / "fresh", "Test study")
    result = run(fresh, "import-qdpx", str(out))
    assert "by paragraph: paras (3 segments" in result.output, result.output
    assert _state(fresh)["codings"] == _state(demo)["codings"]
