"""No SQL outside src/coder/store/: every query is a named store function, so the schema has
one home and a change to it is found in one package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import coder

SRC = Path(coder.__file__).resolve().parent
SQL = re.compile(
    r"^\s*SELECT\s"
    r"|\bSELECT\b[^;]*?\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\bPRAGMA\s+\w+"
    r"|\bCREATE\s+(?:TEMP\s+|TEMPORARY\s+|VIRTUAL\s+|UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b",
    re.S)  # upper case only: prose ("select the codes") is not SQL


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sql_outside_store(root: Path = SRC) -> list[str]:
    """`path:line: text` for each string literal outside store/ that reads as SQL."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        if (root / "store") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # an f-string: its parts, each {} as a name
                skip.update(id(part) for part in node.values)
                text = "".join(p.value if isinstance(p, ast.Constant) else "x"
                               for p in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if id(node) not in skip and SQL.search(text):
                found.append((str(path.relative_to(root)), node.lineno,
                              " ".join(text.split())[:70]))
    return [f"{p}:{line}: {text}" for p, line, text in sorted(found)]


def test_there_is_no_sql_outside_the_store():
    found = sql_outside_store()
    assert found == [], "move these behind named functions in coder.store:\n" + "\n".join(found)


def test_the_check_finds_sql_and_leaves_prose(tmp_path):
    (tmp_path / "a.py").write_text(
        'Q = "SELECT id FROM codes"\n'
        'P = f"PRAGMA {name}"\n'
        'W = ("INSERT OR IGNORE INTO reviewed (segment_id) "\n     "VALUES (?)")\n'
        'S = "Select the codes to apply; delete from the list the ones you do not want."\n'
        'def f():\n    """SELECT * FROM docs is documentation."""\n', encoding="utf-8")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "b.py").write_text('Q = "SELECT 1"\n', encoding="utf-8")
    assert [f.split(":")[1] for f in sql_outside_store(tmp_path)] == ["1", "2", "3"]
