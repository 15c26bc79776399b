"""Types checked: mypy over src/ (settings in pyproject.toml's [tool.mypy]) finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_errors_in_src():
    exe = Path(sys.executable).with_name("mypy")
    assert exe.exists(), "mypy is missing: pip install -e '.[test]'"
    out = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
