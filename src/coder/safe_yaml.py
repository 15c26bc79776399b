"""Reading YAML from outside (codebooks, front matter) with bounds on size, depth and aliases.

PyYAML's safe loader runs no code but trusts the document's shape: aliases are expanded
without limit (a few hundred bytes of "billion laughs" become gigabytes once walked),
nesting recurses until Python's stack gives out, and constructors raise plain
``ValueError`` for a date like ``2024-13-45`` or an integer of 5000 digits. Here every
problem, whatever the loader raises, becomes one :class:`~coder.errors.CoderError` naming
the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coder.errors import CoderError

MAX_CHARS = 4 * 2**20  # the document itself
MAX_DEPTH = 64  # nested mappings and lists
MAX_NODES = 200_000  # nodes once every alias is expanded
MAX_EXPANDED_CHARS = 16 * 2**20  # text once every alias is expanded


class _Refused(Exception):
    def __init__(self, reason: str, line: int | None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _loader_class() -> type:
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """The pure-Python safe loader with a depth bound while composing."""

        def __init__(self, stream: str):
            super().__init__(stream)
            self.depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                return super().compose_node(parent, index)
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise _Refused(f"nested deeper than {MAX_DEPTH} levels", mark.line)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (_Refused, yaml.YAMLError):
                raise
            except Exception as exc:  # ValueError (dates, long ints), OverflowError, ...
                kind = {"timestamp": "a date", "int": "a number", "float": "a number"}.get(
                    str(node.tag).rsplit(":", 1)[-1], "a value")
                value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
                shown = repr(value if len(value) <= 40 else value[:37] + "...")
                raise _Refused(f"cannot read {shown} as {kind} ({_short(exc)})",
                               node.start_mark.line) from None

    return BoundedLoader


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Any) -> None:
    """Refuse a node graph that is cyclic or too large once aliases are expanded.

    Sizes are summed over the graph without expanding it (each shared node is measured
    once), so a billion laughs is refused after a few thousand steps.
    """
    import yaml

    done: dict[int, tuple[int, int]] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finish = stack.pop()
        key = id(node)
        if not finish:
            if key in done:
                continue
            open_.add(key)
            stack.append((node, True))
            for child in _children(node):
                if id(child) in open_:
                    raise _Refused("an alias refers to itself (a recursive structure)",
                                   child.start_mark.line)
                if id(child) not in done:
                    stack.append((child, False))
            continue
        nodes = 1
        chars = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        for child in _children(node):
            n, c = done[id(child)]
            nodes += n
            chars += c
        if nodes > MAX_NODES or chars > MAX_EXPANDED_CHARS:
            raise _Refused(
                "refused: aliases expand it beyond "
                + (f"{MAX_NODES:,} values" if nodes > MAX_NODES
                   else f"{MAX_EXPANDED_CHARS // 2**20} MB of text")
                + " (a billion-laughs document?)", node.start_mark.line)
        open_.discard(key)
        done[key] = (nodes, chars)


def _error(exc: BaseException, *, path: str | Path | None, first_line: int,
           what: str) -> CoderError:
    """One CoderError for whatever the loader raised, with the line in the file."""
    if isinstance(exc, _Refused):
        line = exc.line + first_line if exc.line is not None else None
        return CoderError(f"{what}: {exc.reason}", path=path, line=line)
    problem = getattr(exc, "problem", None) or _short(exc)
    # At the end of the document the useful line is where the unclosed thing began.
    mark = getattr(exc, "problem_mark", None)
    if mark is None or "stream end" in problem or "end of stream" in problem:
        mark = getattr(exc, "context_mark", None) or mark
    line = mark.line + first_line if mark is not None else None
    problem = problem.replace("<stream end>", "end of document")
    problem = problem.replace("end of stream", "end of document")
    return CoderError(f"{what} is not valid YAML ({problem})", path=path, line=line)


def compose(source: str, *, path: str | Path | None = None, first_line: int = 1,
            what: str = "YAML", max_chars: int = MAX_CHARS) -> Any:
    """The checked node tree of ``source`` (None for an empty document).

    ``first_line`` is the file's line number of the source's first line (front matter
    starts on line 2); ``what`` names the document in messages.
    """

    if len(source) > max_chars:
        raise CoderError(f"{what}: refused: {len(source) / 2**20:.1f} MB of YAML "
                         f"(at most {max_chars / 2**20:.0f} MB)", path=path)
    with _loading(source, path=path, first_line=first_line, what=what) as loader:
        root = loader.get_single_node()
        if root is not None:
            _check_expansion(root)
        return root


def construct(node: Any, *, path: str | Path | None = None, first_line: int = 1,
              what: str = "YAML") -> Any:
    """The Python value of a node from :func:`compose` (dates stay dates)."""
    if node is None:
        return None
    with _loading("", path=path, first_line=first_line, what=what) as loader:
        return loader.construct_document(node)


@contextmanager
def _loading(source: str, *, path: str | Path | None, first_line: int,
             what: str) -> Iterator[Any]:
    """A bounded loader over ``source``; every error of it becomes one CoderError."""
    import yaml

    loader = _loader_class()(source)
    try:
        yield loader
    except (_Refused, yaml.YAMLError) as exc:
        raise _error(exc, path=path, first_line=first_line, what=what) from None
    except RecursionError:
        raise CoderError(f"{what}: refused: nested too deeply", path=path) from None
    finally:
        loader.dispose()


def load(source: str, *, path: str | Path | None = None, first_line: int = 1,
         what: str = "YAML", max_chars: int = MAX_CHARS) -> Any:
    """``yaml.safe_load`` with bounds, every error one :class:`CoderError`."""
    node = compose(source, path=path, first_line=first_line, what=what, max_chars=max_chars)
    return construct(node, path=path, first_line=first_line, what=what)
