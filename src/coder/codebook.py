"""YAML codebooks: parse and validate (with line numbers), and write them back out.

A codebook file has a top-level ``codes:`` list; each code is a mapping with ``name`` and
optional ``definition``, ``include``, ``exclude``, ``examples``, ``key``, ``color``,
``patterns``, ``exclusive`` and ``children``. Storing codes is :mod:`coder.store.codes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder import safe_yaml
from coder.errors import CoderError
from coder.formatting import check_name

FIELDS = (
    "name", "definition", "include", "exclude", "examples", "key", "color", "patterns",
    "exclusive", "children",
)
# Keys the workbench uses for its own commands; a code cannot take them.
RESERVED_KEYS = frozenset("acjkmnqrsuxy?/ <>-+={}")  # <>-+={}: playing the recording
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_TOKEN_KEYS = frozenset({
    "ORTH", "TEXT", "LOWER", "LEMMA", "NORM", "POS", "TAG", "SHAPE", "IS_ALPHA", "IS_DIGIT",
    "IS_PUNCT", "LIKE_NUM", "OP", "IN", "NOT_IN", "REGEX", "LENGTH", "IS_STOP",
})


@dataclass
class CodeSpec:
    """One code as a codebook states it."""

    name: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: list[str] = field(default_factory=list)
    key: str | None = None
    color: str | None = None
    patterns: list[Any] = field(default_factory=list)
    exclusive: bool = False
    parent: str | None = None
    line: int | None = None


def load_codebook(path: Path) -> list[CodeSpec]:
    """Read and validate a codebook file; codes come parents first, in file order."""
    try:
        if path.stat().st_size > safe_yaml.MAX_CHARS * 4:
            raise CoderError(f"refused: {path.stat().st_size / 2**20:.0f} MB is too large "
                             "for a codebook", path=path)
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoderError(f"cannot read codebook ({exc})", path=path) from exc
    root = safe_yaml.compose(source, path=path, what="codebook")
    return parse_codebook_node(root, path)


def parse_codebook_node(root: Any, path: Path) -> list[CodeSpec]:
    import yaml

    def fail(message: str, node: Any) -> CoderError:
        line = node.start_mark.line + 1 if node is not None else None
        return CoderError(message, path=path, line=line)

    if not isinstance(root, yaml.MappingNode):
        raise fail("a codebook must be a mapping with a top-level `codes:` list", root)
    top = _mapping(root, fail)
    extra = set(top) - {"codes", "title", "description", "version"}
    if extra:
        key = sorted(extra)[0]
        raise fail(f"unknown top-level field {key!r} (expected `codes:`)", top[key][0])
    if "codes" not in top:
        raise fail("no top-level `codes:` list", root)
    codes_node = top["codes"][1]
    if not isinstance(codes_node, yaml.SequenceNode):
        raise fail("`codes:` must be a list of codes", codes_node)

    specs: list[CodeSpec] = []
    names: dict[str, int] = {}
    keys: dict[str, str] = {}

    problems: list[CoderError] = []

    def walk(seq: Any, parent: str | None) -> None:
        for node in seq.value:
            try:
                children = code(node, parent)
            except CoderError as exc:  # go on: report every problem in one go
                problems.append(exc)
                continue
            if children is not None:
                walk(children, specs[-1].name)

    def code(node: Any, parent: str | None) -> Any:
        """Validate one code and add it to ``specs``; returns its children node, if any."""
        if not isinstance(node, yaml.MappingNode):
            raise fail("each code must be a mapping with at least a `name`", node)
        fields = _mapping(node, fail)
        for key, (key_node, _) in fields.items():
            if key not in FIELDS:
                raise fail(
                    f"unknown field {key!r} (allowed: {', '.join(FIELDS)})", key_node)
        if "name" not in fields:
            raise fail("a code without a `name`", node)
        name = _text(fields["name"][1], fail, "name").strip()
        if not name:
            raise fail("a code name cannot be empty", fields["name"][1])
        try:
            check_name(name, "a code name")
        except CoderError as exc:
            raise fail(exc.reason, fields["name"][1]) from None
        line = node.start_mark.line + 1
        folded = name.casefold()
        if folded in names:
            raise fail(
                f"duplicate code name {name!r} (first defined on line {names[folded]})",
                fields["name"][1])
        names[folded] = line
        spec = CodeSpec(name=name, parent=parent, line=line)
        for attr in ("definition", "include", "exclude"):
            if attr in fields:
                spec.__dict__[attr] = _text(fields[attr][1], fail, attr).strip()
        if "examples" in fields:
            spec.examples = _text_list(fields["examples"][1], fail, "examples")
        if "key" in fields:
            key_node = fields["key"][1]
            key = _text(key_node, fail, "key")
            if len(key) != 1 or not key.isprintable():
                raise fail(f"key {key!r} must be a single character", key_node)
            key = key.lower()
            if key in RESERVED_KEYS:
                raise fail(
                    f"key {key!r} is reserved for the workbench "
                    f"(reserved: {' '.join(sorted(RESERVED_KEYS - {' '}))} and space)",
                    key_node)
            if key in keys:
                raise fail(f"key {key!r} is already used by {keys[key]!r}", key_node)
            keys[key] = name
            spec.key = key
        if "color" in fields:
            color_node = fields["color"][1]
            color = _text(color_node, fail, "color").strip()
            if not _COLOR.match(color):
                raise fail(f"color {color!r} must be a hex colour like #1f77b4", color_node)
            spec.color = color.lower()
        if "patterns" in fields:
            spec.patterns = _patterns(fields["patterns"][1], fail, lambda item: safe_yaml.construct(
                item, path=path, what="codebook"))
        if "exclusive" in fields:
            value = safe_yaml.construct(fields["exclusive"][1], path=path, what="codebook")
            if not isinstance(value, bool):
                raise fail("exclusive must be true or false", fields["exclusive"][1])
            spec.exclusive = value
        children = fields["children"][1] if "children" in fields else None
        if children is not None and not isinstance(children, yaml.SequenceNode):
            raise fail("children must be a list of codes", children)
        if spec.exclusive and children is None:
            raise fail("an exclusive code needs children (its mutually exclusive values)",
                       node)
        specs.append(spec)
        return children

    walk(codes_node, None)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise CoderError("\n".join([*map(str, problems),
                                    f"{path}: {len(problems)} problems; nothing was loaded"]))
    return specs


def _mapping(node: Any, fail) -> dict[str, tuple[Any, Any]]:
    import yaml

    out: dict[str, tuple[Any, Any]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise fail("field names must be plain words", key_node)
        if key_node.value in out:
            raise fail(f"field {key_node.value!r} appears twice", key_node)
        out[key_node.value] = (key_node, value_node)
    return out


def _text(node: Any, fail, what: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise fail(f"{what} must be text", node)
    return str(node.value)


def _text_list(node: Any, fail, what: str) -> list[str]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return [node.value.strip()] if node.value.strip() else []
    if not isinstance(node, yaml.SequenceNode):
        raise fail(f"{what} must be a list of text", node)
    return [_text(item, fail, what).strip() for item in node.value if str(item.value).strip()]


def _patterns(node: Any, fail, construct: Any) -> list[Any]:
    """Phrases (strings) or spaCy token patterns (lists of attribute mappings)."""
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        raise fail("patterns must be a list", node)
    out: list[Any] = []
    for item in node.value:
        if isinstance(item, yaml.ScalarNode):
            phrase = str(item.value).strip()
            if not phrase:
                raise fail("an empty pattern", item)
            out.append(phrase)
            continue
        if not isinstance(item, yaml.SequenceNode) or not item.value:
            raise fail("a pattern is a phrase or a list of token attributes", item)
        value = construct(item)
        for token in value:
            if not isinstance(token, dict) or not token:
                raise fail("each token in a pattern must be a mapping like {LOWER: seat}", item)
            for attr, want in token.items():
                if str(attr).upper() not in _TOKEN_KEYS:
                    raise fail(f"unknown token attribute {attr!r} in a pattern", item)
                if isinstance(want, dict):
                    for op in want:
                        if str(op).upper() not in _TOKEN_KEYS:
                            raise fail(f"unknown operator {op!r} in a pattern", item)
        out.append([{str(k).upper(): v for k, v in token.items()} for token in value])
    return out


# -- writing ---------------------------------------------------------------------------------
def to_yaml(codes: list[dict[str, Any]]) -> str:
    """A codebook file for codes as :func:`coder.store.codes.list_codes` returns them."""
    import yaml

    def node(code: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": code["name"]}
        for attr in ("definition", "include", "exclude"):
            if code.get(attr):
                out[attr] = code[attr]
        if code.get("examples"):
            out["examples"] = list(code["examples"])
        for attr in ("key", "color"):
            if code.get(attr):
                out[attr] = code[attr]
        if code.get("patterns"):
            out["patterns"] = list(code["patterns"])
        if code.get("exclusive"):
            out["exclusive"] = True
        kids = [node(c) for c in codes if c["parent_id"] == code["id"]]
        if kids:
            out["children"] = kids
        return out

    tree = [node(c) for c in codes if c["parent_id"] is None]
    return yaml.safe_dump({"codes": tree}, sort_keys=False, allow_unicode=True, width=100)


def to_markdown(codes: list[dict[str, Any]], title: str = "Codebook") -> str:
    """A readable codebook: headings by depth, guidance as lists."""
    lines = [f"# {title}", ""]

    def emit(code: dict[str, Any], depth: int) -> None:
        heading = "#" * min(depth + 2, 6)
        key = f" [{code['key']}]" if code.get("key") else ""
        lines.append(f"{heading} {code['name']}{key}")
        lines.append("")
        if code.get("definition"):
            lines.extend([code["definition"], ""])
        if code.get("exclusive"):
            lines.extend(["*Exclusive: a segment takes at most one of the codes below.*", ""])
        for label, attr in (("Use when", "include"), ("Do not use when", "exclude")):
            if code.get(attr):
                lines.append(f"- **{label}:** {code[attr]}")
        for example in code.get("examples") or []:
            lines.append(f"- **Example:** “{example}”")
        if code.get("include") or code.get("exclude") or code.get("examples"):
            lines.append("")
        for child in (c for c in codes if c["parent_id"] == code["id"]):
            emit(child, depth + 1)

    for code in (c for c in codes if c["parent_id"] is None):
        emit(code, 0)
    return "\n".join(lines).rstrip() + "\n"
