"""Codebook files: validation with line numbers, loading by name, export round trips."""

from __future__ import annotations

import pytest

from coder.codebook import load_codebook
from coder.errors import CoderError
from conftest import CODEBOOK, open_store, run


def _write(tmp_path, text: str):
    path = tmp_path / "cb.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_codebook_gives_codes_parents_first(tmp_path):
    specs = load_codebook(_write(tmp_path, CODEBOOK))
    assert [s.name for s in specs] == [
        "professional development", "need targeted PD", "islands of innovation",
        "school operations", "seat-time mandates"]
    pd = specs[1]
    assert pd.parent == "professional development"
    assert pd.key == "p" and pd.color == "#ff7f0e"
    assert pd.examples == ["they would benefit from even more targeted PD"]
    assert pd.patterns[0] == "targeted pd"
    assert pd.patterns[1][1] == {"LOWER": "-", "OP": "?"}


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("codes:\n  - name: a\n  - name: b\n  - name: A\n", 4, "duplicate code name 'A'"),
    ("codes:\n  - name: a\n    key: pq\n", 3, "single character"),
    ("codes:\n  - name: a\n    key: j\n", 3, "reserved"),
    ("codes:\n  - name: a\n    key: p\n  - name: b\n    key: p\n", 5, "already used by 'a'"),
    ("codes:\n  - name: a\n    color: blue-ish\n", 3, "hex colour"),
    ("codes:\n  - name: a\n    colour: '#fff'\n", 3, "unknown field 'colour'"),
    ("codes:\n  - name: a\n    exclusive: yes please\n", 3, "true or false"),
    ("codes:\n  - name: a\n    exclusive: true\n", 2, "needs children"),
    ("codes:\n  - definition: nameless\n", 2, "without a `name`"),
    ("codes:\n  - name: a\n    patterns: [[{SHOUT: x}]]\n", 3, "unknown token attribute"),
    ("codes:\n  - name: a\n   bad: indent\n", 3, "not valid YAML"),
    ("themes:\n  - name: a\n", 1, "unknown top-level field 'themes'"),
    ("- name: a\n", 1, "top-level `codes:`"),
])
def test_invalid_codebooks_name_the_line_and_reason(tmp_path, text, line, reason):
    path = _write(tmp_path, text)
    with pytest.raises(CoderError) as err:
        load_codebook(path)
    assert reason in err.value.reason
    assert err.value.line == line
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_loading_again_updates_by_name_and_keeps_coded_codes(demo, tmp_path):
    applied = run(demo, "code", "apply", "ephrata-interview", "2", "islands of innovation")
    assert applied.exit_code == 0
    changed = CODEBOOK.replace("Teachers ask for PD aimed at their own needs.",
                               "Requests for PD that fits the teacher.")
    changed = changed.replace("      - name: islands of innovation\n        key: i\n"
                              "        patterns: [\"island of innovation\"]\n", "")
    result = run(demo, "codebook", "load", str(_write(tmp_path, changed)))
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert "Not in cb.yaml but kept (--prune would delete them and their codings): " \
        "islands of innovation" in result.output
    with open_store(demo) as store:
        assert store.scalar("SELECT definition FROM codes WHERE name = 'need targeted PD'") == \
            "Requests for PD that fits the teacher."
        keys = dict(store.conn.execute("SELECT name, key FROM codes WHERE key IS NOT NULL"))
        assert store.scalar("SELECT count(*) FROM codings") == 1
    assert keys == {"need targeted PD": "p", "seat-time mandates": "t",
                    "islands of innovation": "i"}
    result = run(demo, "codebook", "load", str(_write(tmp_path, changed)), "--prune")
    assert "Deleted 'islands of innovation' and its 1 coding" in result.output
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM codings") == 0
        assert store.scalar("SELECT count(*) FROM codes WHERE name = 'islands of innovation'") == 0


def test_keys_can_move_between_codes_in_one_load(demo, tmp_path):
    swapped = CODEBOOK.replace("key: p", "key: Q").replace("key: i", "key: p").replace(
        "key: Q", "key: i")
    result = run(demo, "codebook", "load", str(_write(tmp_path, swapped)))
    assert result.exit_code == 0, result.output
    with open_store(demo) as store:
        keys = dict(store.conn.execute("SELECT name, key FROM codes WHERE key IS NOT NULL"))
    assert keys == {"need targeted PD": "i", "islands of innovation": "p",
                    "seat-time mandates": "t"}
    assert run(demo, "sync").exit_code == 0  # the study's own codebook swaps them back
    with open_store(demo) as store:
        keys = dict(store.conn.execute("SELECT name, key FROM codes WHERE key IS NOT NULL"))
    assert keys["need targeted PD"] == "p" and keys["islands of innovation"] == "i"


def test_a_bad_codebook_changes_nothing(demo, tmp_path):
    from conftest import snapshot

    before = snapshot(demo)
    bad = CODEBOOK + "  - name: Need Targeted PD\n"
    result = run(demo, "codebook", "load", str(_write(tmp_path, bad)))
    assert result.exit_code == 1
    assert "duplicate code name 'Need Targeted PD'" in result.output
    assert snapshot(demo) == before


def test_yaml_export_loads_back_to_the_same_codebook(demo, study, tmp_path):
    out = tmp_path / "exported.yaml"
    assert run(demo, "codebook", "export", "--format", "yaml", "--out", str(out)).exit_code == 0
    again = load_codebook(out)
    original = load_codebook(_write(tmp_path, CODEBOOK))
    assert [(s.name, s.parent, s.key, s.color, s.patterns, s.definition, s.examples)
            for s in again] == [(s.name, s.parent, s.key, s.color, s.patterns, s.definition,
                                 s.examples) for s in original]


def test_markdown_and_csv_exports_carry_the_guidance(demo):
    md = run(demo, "codebook", "export", "--format", "md").output
    assert "### need targeted PD [p]" in md
    assert "**Do not use when:** Praise of existing PD" in md
    csv_text = run(demo, "codebook", "export", "--format", "csv").output
    header, *rows = csv_text.splitlines()
    assert header.startswith("name,parent,path,definition")
    assert any(r.startswith("seat-time mandates,school operations,") for r in rows)


def test_codebook_show_json_has_counts_and_tree(demo):
    import json

    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD")
    codes = json.loads(run(demo, "codebook", "show", "--format", "json").output)
    by_name = {c["name"]: c for c in codes}
    assert by_name["need targeted PD"]["codings"] == 1
    assert by_name["need targeted PD"]["path"] == "professional development/need targeted PD"
    assert by_name["seat-time mandates"]["parent"] == "school operations"


def test_every_problem_in_a_codebook_is_reported_at_once(tmp_path):
    path = _write(tmp_path, "codes:\n  - name: a\n    colour: red\n  - name: b\n    color: red\n"
                            "  - name: c\n    key: j\n")
    with pytest.raises(CoderError) as err:
        load_codebook(path)
    lines = str(err.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:3", f"{path}:5", f"{path}:7",
                                                          str(path)]
    assert lines[-1].endswith("3 problems; nothing was loaded")
