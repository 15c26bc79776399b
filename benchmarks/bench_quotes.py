"""Time the real `coder quotes` (and a report) on a generated 1,000,000-word study.

The study is generated (benchmarks/generate.py), imported, given the demo codebook and
coded by `coder autocode` (the codebook's patterns and words, coder "bench"), then:

    python benchmarks/bench_quotes.py [--transcripts 200] [--words 1000000]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_study  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--words", type=int, default=1_000_000)
    args = parser.parse_args()
    coder = str(Path(sys.executable).with_name("coder"))
    work = Path(tempfile.mkdtemp(prefix="coder-quotes-bench-"))
    try:
        study = work / "study"
        subprocess.run([coder, "init", str(study)], check=True, capture_output=True)
        shutil.copy(REPO / "codebooks" / "personalized-learning.yaml", study / "codebooks")
        words = write_study(study / "transcripts", args.transcripts, args.words, seed=1)

        def run(*argv: str) -> float:
            start = time.perf_counter()
            done = subprocess.run([coder, *argv, "--study", str(study)], capture_output=True,
                                  text=True)
            if done.returncode:
                raise SystemExit(done.stderr)
            return time.perf_counter() - start

        run("sync")
        run("autocode", "--as", "bench")
        codings = subprocess.run([coder, "status", "--format", "json", "--study", str(study)],
                                 check=True, capture_output=True, text=True).stdout
        print(f"date: {date.today()}  machine: {platform.machine()}, Python "
              f"{platform.python_version()}")
        print(f"study: {args.transcripts} transcripts, {words:,} words; "
              + " ".join(codings.split())[:160])
        for fmt in ("md", "docx", "html", "json", "xlsx"):
            seconds = run("quotes", "--coder", "bench", "--format", fmt, "--out",
                          str(work / f"bank.{fmt}"))
            print(f"coder quotes --format {fmt}: {seconds:.2f} s")
        print(f"coder report frequencies --by transcript: "
              f"{run('report', 'frequencies', '--by', 'transcript', '--coder', 'bench'):.2f} s")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
