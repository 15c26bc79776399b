"""Peak memory of `coder import` on one huge file: a 200 MB transcript and a 50 MB line.

Each case runs `coder init` and `coder import FILE` in a fresh study as a subprocess and
reports wall time, the child's peak resident memory (``os.wait4``) and what the import
said. The files are generated (words from a fixed vocabulary, turns of ~600 characters).

    python benchmarks/bench_big_files.py [--file-mb 200] [--line-mb 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

WORDS = ("we needed more targeted professional development before the program started most "
         "of it was drive-by workshops and the state still counts seat time so our schedule "
         "cannot move islands of innovation a few classrooms doing it well").split()
CODER = str(Path(sys.executable).with_name("coder"))


def write_transcript(path: Path, megabytes: int, one_line: bool) -> None:
    rng = random.Random(1)
    target = megabytes * 2**20
    with path.open("w", encoding="utf-8") as out:
        written = 0
        if one_line:
            out.write("Ana: ")
        turn = 0
        while written < target:
            if not one_line:
                out.write(f"{'Ana' if turn % 2 else 'Interviewer'}: ")
                turn += 1
            chunk = " ".join(rng.choices(WORDS, k=100)) + (". " if one_line else ".\n\n")
            out.write(chunk)
            written += len(chunk) + 8
        out.write("\n")


def run(study: Path, *args: str) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen([CODER, *args, "--study", str(study)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss // 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file-mb", type=int, default=200)
    parser.add_argument("--line-mb", type=int, default=50)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="coder-big-"))
    print(f"{date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    try:
        for label, mb, one_line in (("file", args.file_mb, False),
                                    ("line", args.line_mb, True)):
            if not mb:
                continue
            study = base / label
            subprocess.run([CODER, "init", str(study)], check=True, capture_output=True)
            path = base / f"{label}-{mb}mb.txt"
            write_transcript(path, mb, one_line)
            seconds, peak, output = run(study, "import", str(path))
            size = path.stat().st_size / 2**20
            print(f"| {size:.0f} MB {'single line' if one_line else 'transcript'} | "
                  f"{seconds:.0f} s | {peak:,} MB | {output.splitlines()[-1][:150]} |")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
