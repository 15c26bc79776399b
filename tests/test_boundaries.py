"""The house's boundaries, checked by machine: import-linter's contracts in pyproject.toml pass,
and they name every module under src/coder/, so a new package cannot slip past them."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import coder

ROOT = Path(__file__).resolve().parent.parent
SRC = Path(coder.__file__).resolve().parent
FRONT_ENDS = ("coder.cli", "coder.commands", "coder.tui")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _contract(name_starts: str) -> dict:
    contracts = _config()["tool"]["importlinter"]["contracts"]
    found = [c for c in contracts if c["name"].startswith(name_starts)]
    assert len(found) == 1, f"one contract named {name_starts!r}"
    return found[0]


def _modules() -> list[str]:
    """Every module and package under src/coder/ except the root package and __main__."""
    names = [m.name for m in pkgutil.walk_packages([str(SRC)], prefix="coder.")]
    return sorted(n for n in names if n != "coder.__main__")


def _under(module: str, packages: list[str] | tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists(), "lint-imports is missing: pip install -e '.[test]'"
    out = subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_the_walk_finds_the_packages_it_must():
    modules = _modules()
    for expected in ("coder.store.db", "coder.tui.app", "coder.ingest.turns", "coder.cli"):
        assert expected in modules


def test_every_module_is_kept_free_of_textual_unless_it_is_the_tui():
    sources = _contract("textual only in tui/")["source_modules"]
    loose = [m for m in _modules() if not _under(m, sources) and not _under(m, ("coder.tui",))]
    assert loose == [], f"add these to the textual contract's source_modules: {loose}"


def test_every_module_outside_the_front_ends_is_held_to_the_core_contract():
    sources = _contract("the core imports neither click")["source_modules"]
    loose = [m for m in _modules() if not _under(m, sources) and not _under(m, FRONT_ENDS)]
    assert loose == [], f"add these to the core contract's source_modules: {loose}"
    assert not any(_under(s, FRONT_ENDS) for s in sources)


def test_every_top_level_module_is_either_forbidden_to_the_store_or_a_named_leaf():
    contract = _contract("store/ imports nothing above it")
    forbidden = contract["forbidden_modules"]
    leaves = _config()["tool"]["coder"]["boundaries"]["store_may_import"]
    tops = sorted({".".join(m.split(".")[:2]) for m in _modules()})
    loose = [t for t in tops if t != "coder.store" and t not in forbidden and t not in leaves]
    assert loose == [], f"decide for each: the store contract's forbidden list or a leaf: {loose}"
    assert not set(forbidden) & set(leaves)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_root_package_and_main_import_only_what_they_must():
    """The two files the contracts cannot name without naming everything."""
    assert _imports(SRC / "__init__.py") == set()
    assert _imports(SRC / "__main__.py") == {"coder.cli"}


@pytest.mark.parametrize("module", [m for m in _modules() if _under(m, ("coder.commands",))]
                         + ["coder.cli"])
def test_each_command_module_imports_on_its_own(module):
    """No partly initialised module: each one imports first, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
