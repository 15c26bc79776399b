"""Time the real `coder import` on a generated 1,000,000-word study, beside spaCy alone.

Runs, in one go on this machine:
1. spaCy's tokenizer alone over the same turn texts (the floor for any import that
   tokenises with spaCy);
2. `coder init` + `coder import` of the generated transcripts as a subprocess, measuring
   wall time and the child's peak resident memory.

    python benchmarks/bench_import.py [--transcripts 200] [--words 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_study  # noqa: E402

_LABEL = re.compile(r"^\[[0-9:]+\] [^:\n]+: ", re.M)


def spacy_alone(folder: Path) -> tuple[float, int]:
    """Seconds for spaCy's blank English tokenizer over every turn's text; tokens seen."""
    import spacy

    texts = []
    for path in sorted(folder.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        texts += [t.strip() for t in _LABEL.split(body) if t.strip()]
    nlp = spacy.blank("en")
    start = time.perf_counter()
    tokens = sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=256))
    return time.perf_counter() - start, tokens


_ALONE = """
import re, sys, time
from pathlib import Path
import spacy
label = re.compile(r"^\\[[0-9:]+\\] [^:\\n]+: ", re.M)
texts = []
for path in sorted(Path(sys.argv[1]).glob("*.md")):
    body = path.read_text(encoding="utf-8").split("---", 2)[-1]
    texts += [t.strip() for t in label.split(body) if t.strip()]
nlp = spacy.blank("en")
print(sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=256)))
"""


def spacy_alone_process(folder: Path) -> float:
    """Seconds for a whole process that loads spaCy, reads the files and tokenises them."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _ALONE, str(folder)], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Generate into (and keep) this folder.")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="coder-bench-"))
    corpus = work / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    words = write_study(corpus, args.transcripts, args.words, seed=1)
    study = work / "study"
    if study.exists():
        shutil.rmtree(study)
    coder = Path(sys.executable).with_name("coder")
    subprocess.run([str(coder), "init", str(study)], check=True, capture_output=True)

    spacy_seconds, tokens = spacy_alone(corpus)
    spacy_process = spacy_alone_process(corpus)

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([str(coder), "import", str(corpus), "--study", str(study)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    status = subprocess.run([str(coder), "status", "--format", "json", "--study", str(study)],
                            check=True, capture_output=True, text=True).stdout
    db_mb = (study / "coder.db").stat().st_size / 2**20

    print(f"date: {date.today()}  machine: {platform.machine()}, {platform.processor() or '?'}, "
          f"Python {platform.python_version()}, {_cpus()} CPUs")
    print(f"corpus: {args.transcripts} transcripts, {words:,} words, {tokens:,} spaCy tokens")
    print(f"spaCy alone, tokenizer call only (in-process, spaCy loaded): {spacy_seconds:.2f} s")
    print(f"spaCy alone, whole process (load spaCy, read files, tokenize): {spacy_process:.2f} s")
    print(f"coder import (turns, lemmas, FTS5 index, one transaction): {seconds:.2f} s "
          f"= {seconds / spacy_process:.2f}x the spaCy process, "
          f"{seconds / spacy_seconds:.2f}x the tokenizer call; "
          f"peak RSS of the largest coder process {peak_mb:.0f} MB; database {db_mb:.0f} MB")
    print("status:", " ".join(status.split())[:200])
    if not args.keep:
        shutil.rmtree(work)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    main()
