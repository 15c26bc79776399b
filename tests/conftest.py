"""Shared fixtures: small real studies built in temporary folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from coder.cli import cli
from coder.store.db import Store
from coder.study import init_study

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

INTERVIEW = """\
---
kind: interview
site: Ephrata Area
date: 2019-03-04
---
Interviewer: How did professional development go this year?

Dr. Jane Roe: We needed more targeted PD before the program started.
Most of it was drive-by workshops.

Interviewer: And time to plan together?

Dr. Jane Roe: [00:12:03] We had islands of innovation: a few classrooms doing it well.

Mark Lee: The state still counts seat time, so our schedule cannot move.
"""

CODEBOOK = """\
codes:
  - name: professional development
    definition: How teachers learn to teach in a personalized model.
    color: "#1f77b4"
    children:
      - name: need targeted PD
        definition: Teachers ask for PD aimed at their own needs.
        include: Requests for specific, job-embedded training.
        exclude: Praise of existing PD (use PD seen as effective).
        examples: ["they would benefit from even more targeted PD"]
        key: p
        color: "#ff7f0e"
        patterns: ["targeted pd", [{LOWER: drive}, {LOWER: "-", OP: "?"}, {LOWER: by}]]
      - name: islands of innovation
        key: i
        patterns: ["island of innovation"]
  - name: school operations
    children:
      - name: seat-time mandates
        key: t
        patterns: ["seat time"]
"""


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test depends on who runs it."""
    monkeypatch.setenv("CODER_NAME", "tester")


@pytest.fixture
def study(tmp_path: Path):
    """An empty study folder."""
    return init_study(tmp_path / "study", "Test study")


@pytest.fixture
def demo(study):
    """A study with one interview, speakers.csv and a codebook, synced."""
    (study.transcripts_dir / "ephrata-interview.md").write_text(INTERVIEW, encoding="utf-8")
    (study.transcripts_dir / "speakers.csv").write_text(
        "speaker,role,site\nDr. Jane Roe,teacher,Ephrata Area\nMark Lee,principal,Ephrata Area\n"
        "Interviewer,interviewer,\n", encoding="utf-8")
    (study.codebooks_dir / "pl.yaml").write_text(CODEBOOK, encoding="utf-8")
    result = run(study, "sync")
    assert result.exit_code == 0, result.output
    return study


def run(study, *args: str, coder: str | None = None):
    """Run the real CLI in-process on ``study``."""
    argv = [*args, "--study", str(study.root)]
    if coder:
        argv += ["--coder", coder]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def open_store(study) -> Store:
    return Store(study.db_path)


def snapshot(study) -> dict[str, list]:
    """Every row of every table, to prove a failed command changed nothing."""
    with open_store(study) as store:
        tables = [t for t in store.db.table_names() if not t.startswith("segments_fts")]
        return {t: sorted(store.rows(f"SELECT * FROM [{t}]"), key=repr) for t in tables}


requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not here")


def copy_demo_study(dest: Path) -> Path:
    """The repository's demo study (config, transcripts, codebooks) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "coder.toml", dest / "coder.toml")
    shutil.copytree(REPO / "transcripts", dest / "transcripts")
    shutil.copytree(REPO / "codebooks", dest / "codebooks")
    (dest / "exports").mkdir(exist_ok=True)
    return dest


os.environ.setdefault("COLUMNS", "200")
