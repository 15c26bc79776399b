"""A team on one server: N real workbenches on one study, driven at once.

Each workbench is the real `coder` command on its own pseudo-terminal (120 × 40), as a coder
logged in over SSH would run it, with its own coder name. All open at once; each then codes
the same transcript blind: a code key, then j (moving on marks the segment reviewed), one key
every 150–300 ms. Measured:

- opening: from starting `coder` (which syncs first) to its list of transcripts;
- per-key latency: from writing the key to the terminal until the screen update that shows
  it (the status line's new position, or "coded ¶N") arrives from the workbench;
- CPU per workbench process: idle (open, nothing pressed) and while coding;
- writes: codings and reviewed marks acknowledged on screen vs stored in the database
  (and, with --cli-writer, those of a `coder code apply` loop running beside them).

    python benchmarks/bench_team.py [--workbenches 1 5 10] [--seconds 60] [--segments 1000]
                                    [--cli-writer]
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import fcntl
import os
import platform
import random
import select
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tui import make_study  # noqa: E402

CODER = str(Path(sys.executable).with_name("coder"))
COLUMNS, LINES = 120, 40
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Workbench:
    name: str
    pid: int
    fd: int
    started: float
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    seen: str = ""  # output since the last key
    marker: str | None = None  # what the screen shows once the last key is handled
    sent: float = 0.0
    due: float = 0.0
    position: int = 1  # the current segment (1-based, as the status line shows it)
    step: int = 0
    latencies: list[float] = field(default_factory=list)
    coded: int = 0
    moved: int = 0
    timeouts: int = 0
    waits: int = 0

    def cpu(self) -> float:
        """CPU seconds used so far by this workbench process (user + system)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def spawn(study: Path, name: str) -> Workbench:
    pid, fd = os.forkpty()
    if pid == 0:  # the child: the real command on a terminal
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS),
               "LINES": str(LINES), "CODER_NAME": name}
        os.execve(CODER, [CODER, "--study", str(study)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    return Workbench(name, pid, fd, time.monotonic())


def pump(benches: list[Workbench], timeout: float) -> None:
    """Read whatever the workbenches wrote (they block if nobody reads their terminal)."""
    fds = {w.fd: w for w in benches}
    ready, _, _ = select.select(list(fds), [], [], max(timeout, 0))
    for fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            continue
        bench = fds[fd]
        text = bench.decoder.decode(data)
        bench.waits += "Waiting for the database" in text  # the workbench's waiting box
        bench.seen = (bench.seen + text)[-20000:]


def wait_for(benches: list[Workbench], text: str | tuple[str, ...],
             seconds: float) -> list[float]:
    """Wait until every workbench shows ``text`` (or one of them); when each did."""
    deadline = time.monotonic() + seconds
    waiting = list(benches)
    when: dict[int, float] = {}
    texts = (text,) if isinstance(text, str) else text
    while waiting and time.monotonic() < deadline:
        pump(benches, 0.02)
        for bench in list(waiting):
            if any(t in bench.seen for t in texts):
                when[bench.pid] = time.monotonic()
                waiting.remove(bench)
    if not waiting:
        return [when[b.pid] for b in benches]
    raise SystemExit(f"{len(waiting)} workbench(es) never showed {text!r}: "
                     f"{waiting[0].seen[-300:]!r}")


class CliWriter(threading.Thread):
    """`coder code apply` on one segment after another, as a script beside the team would."""

    def __init__(self, study: Path, coder: str, code: str):
        super().__init__(daemon=True)
        self.study, self.coder, self.code = study, coder, code
        self.stop = threading.Event()
        self.ok = self.failed = 0
        self.errors: list[str] = []

    def run(self) -> None:
        segment = 1
        while not self.stop.is_set():
            done = subprocess.run(
                [CODER, "code", "apply", "long-interview", str(segment), self.code,
                 "--study", str(self.study), "--coder", self.coder],
                capture_output=True, text=True)
            if done.returncode == 0:
                self.ok += 1
            else:
                self.failed += 1
                self.errors.append(done.stderr.strip())
            segment += 1


def run(study: Path, n: int, seconds: float, segments: int, key: str,
        seed: int, cli: bool = False) -> dict[str, Any]:
    rng = random.Random(seed)
    tag = f"n{n}s{seed}"
    benches = [spawn(study, f"bench-{tag}-{i}") for i in range(n)]
    try:
        # Opening: `coder` syncs (a read when nothing changed), then shows the transcripts.
        home = wait_for(benches, "transcripts", 120)
        opened = [t - b.started for t, b in zip(home, benches, strict=True)]
        for bench in benches:
            os.write(bench.fd, b"\r")
            bench.seen = ""
        wait_for(benches, f"(1/{segments})", 120)
        # Idle: once every suggester has learnt (its panel says so), nothing pressed.
        wait_for(benches, ("Suggestions: none", "(y accept"), 600)
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            pump(benches, 0.1)
        idle_start = [b.cpu() for b in benches]
        idle_s = 10.0
        end = time.monotonic() + idle_s
        while time.monotonic() < end:
            pump(benches, 0.1)
        idle = [(b.cpu() - c) / idle_s for b, c in zip(benches, idle_start, strict=True)]
        # Coding: a code key, then j, at a human pace.
        busy_start = [b.cpu() for b in benches]
        writer = None
        if cli:
            with sqlite3.connect(study / "coder.db") as conn:
                code = conn.execute("SELECT name FROM codes WHERE key = ?", (key,)).fetchone()[0]
            writer = CliWriter(study, f"bench-cli-{tag}", code)
            writer.start()
        start = time.monotonic()
        for bench in benches:
            bench.due = start + rng.uniform(0, 0.3)
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            for bench in benches:
                if bench.marker is not None and bench.marker in bench.seen:
                    bench.latencies.append(now - bench.sent)
                    bench.marker = None
                    bench.due = now + rng.uniform(0.15, 0.30)
                elif bench.marker is not None and now - bench.sent > 10:
                    bench.timeouts += 1
                    bench.marker = None
                    bench.due = now
                if bench.marker is None and now >= bench.due:
                    if bench.step % 2 == 0:
                        press, bench.marker = key, f"coded ¶{bench.position}"
                        bench.coded += 1
                    else:
                        bench.position += 1
                        press, bench.marker = "j", f"({bench.position}/{segments})"
                        bench.moved += 1
                    bench.step += 1
                    bench.seen = ""
                    bench.sent = time.monotonic()
                    os.write(bench.fd, press.encode())
            pump(benches, 0.003)
        elapsed = time.monotonic() - start
        if writer is not None:
            writer.stop.set()
            writer.join()
        coding = [(b.cpu() - c) / elapsed for b, c in zip(benches, busy_start, strict=True)]
        deadline = time.monotonic() + 10  # let the last keys land
        while any(b.marker for b in benches) and time.monotonic() < deadline:
            pump(benches, 0.02)
            for bench in benches:
                if bench.marker and bench.marker in bench.seen:
                    bench.latencies.append(time.monotonic() - bench.sent)
                    bench.marker = None
    finally:
        for bench in benches:
            with contextlib.suppress(OSError):
                os.write(bench.fd, b"q")
        deadline = time.monotonic() + 20
        running = list(benches)
        while running and time.monotonic() < deadline:
            pump(running, 0.05)  # keep reading: a workbench blocked on output cannot quit
            running = [b for b in running if not os.waitpid(b.pid, os.WNOHANG)[0]]
        for bench in running:
            os.kill(bench.pid, signal.SIGKILL)
            os.waitpid(bench.pid, 0)
        for bench in benches:
            os.close(bench.fd)
    with sqlite3.connect(study / "coder.db") as conn:
        stored_codings = conn.execute(
            "SELECT count(*) FROM codings WHERE coder LIKE ?", (f"bench-{tag}-%",)).fetchone()[0]
        stored_reviewed = conn.execute(
            "SELECT count(*) FROM reviewed WHERE coder LIKE ?", (f"bench-{tag}-%",)).fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        stored_cli = conn.execute("SELECT count(*) FROM codings WHERE coder = ?",
                                  (f"bench-cli-{tag}",)).fetchone()[0]
    latencies = sorted(x for b in benches for x in b.latencies)
    return {
        "n": n, "keys": len(latencies), "timeouts": sum(b.timeouts for b in benches),
        "waits": sum(b.waits for b in benches),
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else 0,
        "open_max_s": max(opened), "open_median_s": statistics.median(opened),
        "idle_cpu": statistics.mean(idle), "idle_cpu_max": max(idle),
        "coding_cpu": statistics.mean(coding), "coding_cpu_max": max(coding),
        "codings": (sum(b.coded for b in benches), stored_codings),
        "reviewed": (sum(b.moved for b in benches), stored_reviewed),
        "integrity": integrity,
        "cli": (writer.ok, stored_cli, writer.failed, writer.errors[:1]) if writer else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbenches", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--cli-writer", action="store_true",
                        help="Also run `coder code apply` in a loop beside the workbenches.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-team-bench-"))
    try:
        root = make_study(work, args.segments)
        with sqlite3.connect(root / "coder.db") as conn:
            key = conn.execute("SELECT key FROM codes WHERE key IS NOT NULL AND key GLOB "
                               "'[a-z]' ORDER BY position, id").fetchone()[0]
        print(f"date: {date.today()}  machine: {platform.machine()}, {os.cpu_count()} CPUs, "
              f"Python {platform.python_version()}, load average before: "
              f"{os.getloadavg()[0]:.1f}")
        print(f"study: one transcript of {args.segments:,} segments; each workbench presses "
              f"'{key}' then 'j', one key every 150-300 ms, for {args.seconds:.0f} s")
        for seed, n in enumerate(args.workbenches):
            r = run(root, n, args.seconds, args.segments, key, seed, args.cli_writer)
            print(f"N={r['n']:>2}: open median {r['open_median_s']:.1f} s, max "
                  f"{r['open_max_s']:.1f} s · per key median {r['median_ms']:.0f} ms, p95 "
                  f"{r['p95_ms']:.0f} ms ({r['keys']} keys, {r['timeouts']} timeouts, "
                  f"{r['waits']} 'waiting for the database') · CPU "
                  f"per workbench idle {r['idle_cpu']:.3f} (max {r['idle_cpu_max']:.3f}), "
                  f"coding {r['coding_cpu']:.2f} (max {r['coding_cpu_max']:.2f}) · codings "
                  f"{r['codings'][1]}/{r['codings'][0]}, reviewed "
                  f"{r['reviewed'][1]}/{r['reviewed'][0]} stored/expected · integrity "
                  f"{r['integrity']} · load average {os.getloadavg()[0]:.1f}", flush=True)
            if r["cli"]:
                ok, stored, failed, errors = r["cli"]
                print(f"      CLI writer: {stored}/{ok} codings stored/acknowledged, {failed} "
                      f"failed {errors}", flush=True)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
