"""The code tree: load a codebook, add, rename, merge and move codes; codings follow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError
from coder.formatting import check_name
from coder.store.db import Store, inserted_id, now

if TYPE_CHECKING:
    from coder.codebook import CodeSpec

_COLUMNS = ("definition", "include", "exclude", "examples", "color", "key", "patterns",
            "exclusive")


def list_codes(store: Store, coder: str | None = None) -> list[dict[str, Any]]:
    """Every code in tree order (parents before children, siblings by position), with counts
    of its codings and coded segments (only ``coder``'s, when given: blind coding)."""
    rows = store.rows(
        """SELECT c.*,
                  (SELECT count(*) FROM codings g WHERE g.code_id = c.id
                   AND (:coder IS NULL OR g.coder = :coder)) AS codings,
                  (SELECT count(DISTINCT g.segment_id) FROM codings g WHERE g.code_id = c.id
                   AND (:coder IS NULL OR g.coder = :coder)) AS segments
           FROM codes c ORDER BY c.position, c.id""", {"coder": coder})
    for row in rows:
        row["examples"] = json.loads(row["examples"])
        row["patterns"] = json.loads(row["patterns"])
        row["exclusive"] = bool(row["exclusive"])
    children: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)
    ordered: list[dict[str, Any]] = []

    def visit(parent: int | None, depth: int, path: str) -> None:
        for row in children.get(parent, []):
            row["depth"] = depth
            row["path"] = f"{path}/{row['name']}" if path else row["name"]
            ordered.append(row)
            visit(row["id"], depth + 1, row["path"])

    visit(None, 0, "")
    return ordered


def find_code(store: Store, name: str) -> dict[str, Any]:
    """A code by name (case-insensitive); a clear error names close matches otherwise."""
    row = store.one("SELECT * FROM codes WHERE name = ? COLLATE NOCASE", (name.strip(),))
    if row is None:
        import difflib

        names = [r["name"] for r in store.rows("SELECT name FROM codes")]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise CoderError(f"no code named {name!r}{hint}")
    return row


def _subtree_ids(store: Store, code_id: int) -> set[int]:
    rows = store.rows(
        """WITH RECURSIVE sub(id) AS (SELECT ? UNION SELECT c.id FROM codes c JOIN sub
           ON c.parent_id = sub.id) SELECT id FROM sub""", (code_id,))
    return {r["id"] for r in rows}


def _next_position(store: Store, parent_id: int | None) -> int:
    return store.scalar(
        "SELECT coalesce(max(position), -1) + 1 FROM codes WHERE parent_id IS ?", (parent_id,))


def _check_key(store: Store, key: str | None, code_id: int | None) -> None:
    from coder.codebook import RESERVED_KEYS

    if key is None:
        return
    if len(key) != 1 or key in RESERVED_KEYS:
        raise CoderError(f"key {key!r} must be one character not reserved by the workbench")
    other = store.one("SELECT name FROM codes WHERE key = ? AND id IS NOT ?", (key, code_id))
    if other:
        raise CoderError(f"key {key!r} is already used by {other['name']!r}")


def add_code(store: Store, name: str, *, parent: str | None = None, definition: str = "",
             key: str | None = None, color: str | None = None) -> int:
    """Add a code; returns its id."""
    name = check_name(name.strip(), "a code name")
    if not name:
        raise CoderError("a code name cannot be empty")
    if store.one("SELECT id FROM codes WHERE name = ? COLLATE NOCASE", (name,)):
        raise CoderError(f"a code named {name!r} already exists")
    with store.transaction():
        parent_id = find_code(store, parent)["id"] if parent else None
        _check_key(store, key, None)
        cursor = store.execute(
            """INSERT INTO codes (name, parent_id, position, definition, key, color, created_at)
               VALUES (?,?,?,?,?,?,?)""",
            (name, parent_id, _next_position(store, parent_id), definition, key, color, now()))
        # The whole row goes into the event: undo deletes the code, redo puts it back as it was.
        code_id = inserted_id(cursor)
        row = store.one("SELECT * FROM codes WHERE id = ?", (code_id,))
        store.log("code.add", code_id=code_id, name=name, parent=parent,
                  definition=definition, key=key, color=color, row=row)
        return code_id


def rename_code(store: Store, old: str, new: str) -> None:
    new = check_name(new.strip(), "a code name")
    if not new:
        raise CoderError("a code name cannot be empty")
    with store.transaction():
        code = find_code(store, old)
        clash = store.one("SELECT id FROM codes WHERE name = ? COLLATE NOCASE AND id != ?",
                          (new, code["id"]))
        if clash:
            raise CoderError(f"a code named {new!r} already exists")
        store.execute("UPDATE codes SET name = ? WHERE id = ?", (new, code["id"]))
        store.log("code.rename", code_id=code["id"], old=code["name"], new=new)


def move_code(store: Store, name: str, parent: str | None) -> None:
    """Move a code (with its children) under ``parent``, or to the top level when None."""
    with store.transaction():
        code = find_code(store, name)
        parent_id = None
        if parent:
            target = find_code(store, parent)
            if target["id"] in _subtree_ids(store, code["id"]):
                raise CoderError(f"cannot move {code['name']!r} under itself or its children")
            parent_id = target["id"]
        old_parent = store.scalar("SELECT name FROM codes WHERE id = ?", (code["parent_id"],))
        position = _next_position(store, parent_id)
        store.execute("UPDATE codes SET parent_id = ?, position = ? WHERE id = ?",
                      (parent_id, position, code["id"]))
        store.log("code.move", code_id=code["id"], name=code["name"], old_parent=old_parent,
                  new_parent=parent, old_parent_id=code["parent_id"],
                  old_position=code["position"], new_parent_id=parent_id,
                  new_position=position)


def merge_code(store: Store, source: str, into: str) -> dict[str, int]:
    """Move every coding of ``source`` to ``into``, re-parent its children, delete it."""
    with store.transaction():
        src, dst = find_code(store, source), find_code(store, into)
        if src["id"] == dst["id"]:
            raise CoderError("cannot merge a code into itself")
        if dst["id"] in _subtree_ids(store, src["id"]):
            raise CoderError(f"cannot merge {src['name']!r} into one of its own children")
        codings = store.rows("SELECT * FROM codings WHERE code_id = ?", (src["id"],))
        moved = duplicate = 0
        for row in codings:
            exists = store.one(
                """SELECT id FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?
                   AND span_start IS ? AND span_end IS ?""",
                (row["segment_id"], dst["id"], row["coder"], row["span_start"], row["span_end"]))
            if exists:
                store.execute("DELETE FROM codings WHERE id = ?", (row["id"],))
                duplicate += 1
            else:
                store.execute("UPDATE codings SET code_id = ? WHERE id = ?",
                              (dst["id"], row["id"]))
                moved += 1
        store.execute("UPDATE codes SET parent_id = ? WHERE parent_id = ?",
                      (dst["id"], src["id"]))
        _merge_code_memos(store, src, dst)
        store.execute("DELETE FROM codes WHERE id = ?", (src["id"],))
        store.log("code.merge", source=src["name"], source_id=src["id"], into=dst["name"],
                  into_id=dst["id"], codings=[r["id"] for r in codings], moved=moved,
                  already_there=duplicate)
        return {"moved": moved, "already_there": duplicate}


def _merge_code_memos(store: Store, src: dict[str, Any], dst: dict[str, Any]) -> None:
    """Memos on a merged code move to the code it merges into, one per coder."""
    for memo in store.rows("SELECT * FROM memos WHERE kind = 'code' AND target_id = ?",
                           (src["id"],)):
        mine = store.one("SELECT * FROM memos WHERE kind = 'code' AND target_id = ? "
                         "AND coder = ?", (dst["id"], memo["coder"]))
        if mine is None:
            store.execute("UPDATE memos SET target_id = ? WHERE id = ?", (dst["id"], memo["id"]))
            continue
        text, stamp = f"{mine['text']}\n\n(from {src['name']}) {memo['text']}", now()
        store.execute("UPDATE memos SET text = ?, updated_at = ? WHERE id = ?",
                      (text, stamp, mine["id"]))
        store.execute("DELETE FROM memos WHERE id = ?", (memo["id"],))
        store.log("memo.edit", memo_id=mine["id"], kind="code", target_id=dst["id"],
                  coder=memo["coder"], old=mine["text"], new=text,
                  old_updated_at=mine["updated_at"], updated_at=stamp)


@dataclass
class CodebookChanges:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in the study, not in the file
    pruned: dict[str, int] = field(default_factory=dict)  # name -> codings removed


def apply_codebook(store: Store, specs: list[CodeSpec], *, prune: bool = False,
                   source: str = "") -> CodebookChanges:
    """Create or update codes by name. Codes missing from the file are kept unless ``prune``."""
    changes = CodebookChanges()
    with store.transaction():
        ids: dict[str, int] = {}
        positions: dict[str | None, int] = {}
        existing = {r["name"].casefold(): r for r in store.rows("SELECT * FROM codes")}
        # A key moving from one code to another is freed first (keys are unique).
        for spec in specs:
            if spec.key and store.scalar("SELECT 1 FROM codes WHERE key = ? AND name != ? "
                                         "COLLATE NOCASE", (spec.key, spec.name)):
                store.execute("UPDATE codes SET key = NULL WHERE key = ? AND name != ? "
                              "COLLATE NOCASE", (spec.key, spec.name))
        for spec in specs:
            parent_id = ids[spec.parent.casefold()] if spec.parent else None
            position = positions.get(spec.parent, 0)
            positions[spec.parent] = position + 1
            values = {
                "definition": spec.definition, "include": spec.include, "exclude": spec.exclude,
                "examples": json.dumps(spec.examples), "color": spec.color, "key": spec.key,
                "patterns": json.dumps(spec.patterns), "exclusive": int(spec.exclusive),
            }
            row = existing.get(spec.name.casefold())
            if row is None:
                cursor = store.execute(
                    f"""INSERT INTO codes (name, parent_id, position, {', '.join(_COLUMNS)},
                        created_at) VALUES (?,?,?,{','.join('?' * len(_COLUMNS))},?)""",
                    (spec.name, parent_id, position, *values.values(), now()))
                ids[spec.name.casefold()] = inserted_id(cursor)
                changes.added.append(spec.name)
                store.log("code.add", code_id=cursor.lastrowid, name=spec.name,
                          parent=spec.parent, source=source, **values)
                continue
            ids[spec.name.casefold()] = row["id"]
            before = {c: row[c] for c in _COLUMNS}
            before_where = (row["name"], row["parent_id"], row["position"])
            if before == values and before_where == (spec.name, parent_id, position):
                changes.unchanged.append(spec.name)
                continue
            store.execute(
                f"""UPDATE codes SET name = ?, parent_id = ?, position = ?,
                    {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE id = ?""",
                (spec.name, parent_id, position, *values.values(), row["id"]))
            changes.updated.append(spec.name)
            store.log("code.update", code_id=row["id"], name=spec.name, source=source,
                      before={**before, "name": row["name"], "parent_id": row["parent_id"]},
                      after={**values, "parent_id": parent_id})
        missing = [r for r in list_codes(store) if r["name"].casefold() not in ids]
        if prune:
            # Delete leaves first so no child points at a deleted parent.
            for row in sorted(missing, key=lambda r: -r["depth"]):
                n = store.execute("DELETE FROM codings WHERE code_id = ?", (row["id"],)).rowcount
                store.execute("UPDATE codes SET parent_id = NULL WHERE parent_id = ?",
                              (row["id"],))
                store.execute("DELETE FROM codes WHERE id = ?", (row["id"],))
                changes.pruned[row["name"]] = n
                store.log("code.delete", code_id=row["id"], name=row["name"], codings_removed=n)
        else:
            changes.kept = [r["name"] for r in missing]
    return changes


def code_names(store: Store) -> dict[int, str]:
    """Every code's name by id."""
    return {r["id"]: r["name"] for r in store.rows("SELECT id, name FROM codes")}
