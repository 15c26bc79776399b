"""Time the workbench on a 10,000-segment transcript, driven by Pilot.

Measures (see DESIGN.md on timing keys with Pilot):
- opening the transcript: from Enter on the home screen to the coding screen's first
  paint, wall time;
- per key, moving (j) and toggling a code (including its database commit): the process
  CPU time per press, and the wall time per press minus that of a bare Textual app
  pressed the same way in the same run.

    python benchmarks/bench_tui.py [--segments 10000] [--presses 200]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from textual.app import App
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import sentences  # noqa: E402


def make_study(root: Path, segments: int) -> Path:
    from coder.codebook import load_codebook
    from coder.importer import ImportOptions, import_paths
    from coder.store.codes import apply_codebook
    from coder.store.db import Store
    from coder.study import init_study

    study = init_study(root / "study", "bench")
    rng = random.Random(7)
    pool = sentences()
    lines = []
    for n in range(segments):
        speaker = "Interviewer" if n % 2 == 0 else rng.choice(["Maria Lopez", "James Chen"])
        lines.append(f"{speaker}: {' '.join(rng.sample(pool, rng.randint(1, 4)))}\n")
    path = root / "long-interview.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    repo = Path(__file__).resolve().parents[1]
    with Store(study.db_path) as store:
        apply_codebook(store, load_codebook(repo / "codebooks" / "personalized-learning.yaml"))
        import_paths(store, study, [path], ImportOptions())
    return study.root


class Bare(App):
    def compose(self):
        yield Static("bare")


async def bare_press(presses: int) -> tuple[float, float]:
    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(presses):
            await pilot.press("j")
        return ((time.perf_counter() - wall) / presses, (time.process_time() - cpu) / presses)


async def coder_press(root: Path, presses: int) -> dict[str, float]:
    from coder.tui import CoderApp
    from coder.tui.widgets.transcript_view import TranscriptView

    app = CoderApp(root, "bench")
    out: dict[str, float] = {}
    painted: list[float] = []
    original = TranscriptView.render_line

    def render_line(view, y):  # note when the laid-out transcript paints its first line
        if not painted and view.segments and view._heights:
            painted.append(time.perf_counter())
        return original(view, y)

    TranscriptView.render_line = render_line
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("enter")
        await pilot.pause()
        out["open"] = painted[0] - start
        out["open_idle"] = time.perf_counter() - start
        TranscriptView.render_line = original
        out["segments"] = len(app.screen.query_one(TranscriptView).segments)
        for label, keys in (("move", ["j"]), ("toggle", ["p"]), ("move+toggle", ["j", "i"])):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(presses):
                for key in keys:
                    await pilot.press(key)
            n = presses * len(keys)
            out[f"{label}_wall"] = (time.perf_counter() - wall) / n
            out[f"{label}_cpu"] = (time.process_time() - cpu) / n
        await pilot.press("end")
        await pilot.pause()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(presses):
            await pilot.press("k")
        out["move_at_end_wall"] = (time.perf_counter() - wall) / presses
        out["move_at_end_cpu"] = (time.process_time() - cpu) / presses
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-tui-bench-"))
    try:
        root = make_study(work, args.segments)
        bare_wall, bare_cpu = asyncio.run(bare_press(args.presses))
        r = asyncio.run(coder_press(root, args.presses))
    finally:
        shutil.rmtree(work)
    print(f"date: {date.today()}  machine: {platform.machine()}, Python "
          f"{platform.python_version()}")
    print(f"transcript: {int(r['segments']):,} segments")
    print(f"open to first paint: {r['open'] * 1000:.0f} ms (until Pilot sees the app idle: "
          f"{r['open_idle'] * 1000:.0f} ms)")
    print(f"bare Textual app per press: wall {bare_wall * 1000:.1f} ms, "
          f"CPU {bare_cpu * 1000:.1f} ms")
    for label in ("move", "toggle", "move+toggle", "move_at_end"):
        wall, cpu = r[f"{label}_wall"], r[f"{label}_cpu"]
        print(f"{label:12s} per key: CPU {cpu * 1000:.1f} ms; wall {wall * 1000:.1f} ms, "
              f"minus bare app {(wall - bare_wall) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
