"""`coder check` on a study with a long event log: wall time and peak memory.

Copies the demo study to a temporary folder, imports it, then adds N codings and their
``coding.add`` events straight into the database (as many coders coding every segment),
and runs ``coder check`` as a subprocess, timing it and reading its peak RSS. The check
of the codings against the event log walks two sorted streams, so memory should stay
flat as N grows.

    .venv/bin/python benchmarks/bench_check.py [--codings 20000 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODER = Path(sys.executable).parent / "coder"


def fill(db: Path, n: int) -> None:
    conn = sqlite3.connect(db)
    segments = [r[0] for r in conn.execute("SELECT id FROM segments")]
    codes = [r[0] for r in conn.execute("SELECT id FROM codes")][:4]
    batch = conn.execute("SELECT max(batch) FROM events").fetchone()[0]
    rows, events = [], []
    for i in range(n):
        coder = f"c{i // (len(segments) * len(codes))}"
        seg, code = segments[i // len(codes) % len(segments)], codes[i % len(codes)]
        rows.append((i + 1, seg, code, coder, "manual", "2026-01-01"))
        payload = {"coding_id": i + 1, "segment_id": seg, "code_id": code, "coder": coder,
                   "origin": "manual", "memo": None, "span": None, "created_at": "2026-01-01"}
        events.append((batch + i + 1, "2026-01-01", coder, "", "code apply", "coding.add",
                       json.dumps(payload)))
    conn.executemany("INSERT INTO codings (id, segment_id, code_id, coder, origin, created_at)"
                     " VALUES (?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO events (batch, ts, coder, os_user, command, action, payload)"
                     " VALUES (?,?,?,?,?,?,?)", events)
    conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codings", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--fill", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        return fill(args.fill, args.codings[0])
    print("| codings (and coding events) | database | `coder check` wall | peak RSS |")
    print("|---|---|---|---|")
    for n in args.codings:
        with tempfile.TemporaryDirectory() as tmp:
            study = Path(tmp)
            for name in ("coder.toml",):
                shutil.copy(REPO / name, study / name)
            for name in ("transcripts", "codebooks"):
                shutil.copytree(REPO / name, study / name)
            subprocess.run([str(CODER), "sync", "--study", str(study)], check=True,
                           capture_output=True)
            # filled in a child: a child's peak RSS starts from its parent's at the fork
            subprocess.run([sys.executable, __file__, "--fill", str(study / "coder.db"),
                            "--codings", str(n)], check=True)
            start = time.perf_counter()
            proc = subprocess.Popen([str(CODER), "check", "--study", str(study)],
                                    stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            size = (study / "coder.db").stat().st_size / 2**20
            code = os.waitstatus_to_exitcode(status)
            print(f"| {n:,} | {size:.0f} MB | {wall:.2f} s (exit {code}) "
                  f"| {usage.ru_maxrss / 1024:.0f} MB |")


if __name__ == "__main__":
    main()
