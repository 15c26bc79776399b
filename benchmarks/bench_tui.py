"""Time the workbench on a 10,000-segment transcript, driven by Pilot.

Measures (see DESIGN.md on timing keys with Pilot):
- opening the transcript: from Enter on the home screen to the coding screen's first
  paint, to Pilot seeing the app idle, and to the suggestions being ready (the model
  trains in a worker meanwhile), wall time;
- per key, with the suggestions on and ready, moving (j) and toggling a code (including
  its database commit): the process CPU time per press, and the wall time per press minus
  that of a bare Textual app pressed the same way in the same run.

Each repeat runs the bare app and then coder, in one process; the figures are medians over
the repeats (the machine is shared: a single run says little).

    python benchmarks/bench_tui.py [--segments 10000] [--presses 200] [--codes 0|20]
                                   [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from textual.app import App
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import sentences  # noqa: E402

# Keys of a generated codebook: none of the workbench's own keys.
_KEYS = "pidefghlotvwzb"


def generated_codebook(codes: int, pool: list[str]) -> str:
    """A codebook of ``codes`` leaf codes under four themes, with definitions, keys for the
    first ones (``p`` and ``i`` among them) and a pattern each from the transcripts' words."""
    rng = random.Random(11)
    words = sorted({w.strip(".,;:!?\"'()").lower() for s in pool for w in s.split()
                    if len(w) > 6 and w.isalpha()})
    lines = ["codes:"]
    per_theme = max(1, codes // 4)
    for t in range(4):
        lines += [f"  - name: theme {t + 1}", "    children:"]
        for c in range(per_theme):
            n = t * per_theme + c
            marker = rng.choice(words)
            lines += [f"      - name: code {n + 1:02d} {marker}",
                      f"        definition: Talk about {marker} and {rng.choice(words)}.",
                      f"        patterns: [\"{marker}\"]"]
            if n < len(_KEYS):
                lines.append(f"        key: {_KEYS[n]}")
    return "\n".join(lines) + "\n"


def make_study(root: Path, segments: int, codes: int = 0) -> Path:
    """A study with one transcript of ``segments`` turns and the demo codebook (or, with
    ``codes``, a generated one of that many codes)."""
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
    codebook = repo / "codebooks" / "personalized-learning.yaml"
    if codes:
        codebook = root / "generated.yaml"
        codebook.write_text(generated_codebook(codes, pool), encoding="utf-8")
    with Store(study.db_path) as store:
        apply_codebook(store, load_codebook(codebook))
        import_paths(store, study, [path], ImportOptions())
    return study.root


class Bare(App):
    def compose(self):
        yield Static("bare")


class BarePainting(App):
    """A bare app whose key repaints one line: it waits for Textual's next frame, as any
    app that shows a key's effect does (the no-op bare app never repaints)."""

    BINDINGS = [("j", "count", "count")]

    def compose(self):
        yield Static("0", id="count")

    def action_count(self) -> None:
        label = self.query_one("#count", Static)
        label.update(str(int(str(label.render())) + 1))


async def bare_press(presses: int, app_class: type[App] = Bare) -> tuple[float, float]:
    app = app_class()
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
        screen = app.screen
        while screen.suggester is None or not screen.suggestion_cache:
            await pilot.pause(0.02)
        out["open_suggestions"] = time.perf_counter() - start
        await app.workers.wait_for_complete()
        out["segments"] = len(screen.query_one(TranscriptView).segments)
        for label, keys in (("move", ["j"]), ("toggle", ["p"]), ("move+toggle", ["j", "i"])):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(presses):
                for key in keys:
                    await pilot.press(key)
            n = presses * len(keys)
            out[f"{label}_wall"] = (time.perf_counter() - wall) / n
            out[f"{label}_cpu"] = (time.process_time() - cpu) / n
            await app.workers.wait_for_complete()  # the model learns between the phases
        await pilot.press("end")
        await pilot.pause()
        await app.workers.wait_for_complete()
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
    parser.add_argument("--codes", type=int, default=0,
                        help="a generated codebook of this many codes (0: the demo's)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-tui-bench-"))
    runs: list[dict[str, float]] = []
    try:
        root = make_study(work, args.segments, args.codes)
        for n in range(args.repeat):
            bare_wall, bare_cpu = asyncio.run(bare_press(args.presses))
            paint_wall, paint_cpu = asyncio.run(bare_press(args.presses, BarePainting))
            r = asyncio.run(coder_press(root, args.presses))
            r["bare_wall"], r["bare_cpu"] = bare_wall, bare_cpu
            r["paint_wall"], r["paint_cpu"] = paint_wall, paint_cpu
            runs.append(r)
            print(f"run {n + 1}: " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in r.items()
                                               if k != "segments"), flush=True)
    finally:
        shutil.rmtree(work)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs) * 1000

    print(f"date: {date.today()}  machine: {platform.machine()}, Python "
          f"{platform.python_version()}; medians of {len(runs)} runs")
    print(f"transcript: {int(runs[0]['segments']):,} segments; codebook: "
          f"{args.codes or 'the demo'} codes")
    print(f"open to first paint: {med('open'):.0f} ms; until Pilot sees the app idle: "
          f"{med('open_idle'):.0f} ms; suggestions shown: {med('open_suggestions'):.0f} ms")
    print(f"bare Textual app per press: wall {med('bare_wall'):.1f} ms, "
          f"CPU {med('bare_cpu'):.1f} ms; repainting a line per key: wall "
          f"{med('paint_wall'):.1f} ms, CPU {med('paint_cpu'):.1f} ms")
    for label in ("move", "toggle", "move+toggle", "move_at_end"):
        net = statistics.median(r[f"{label}_wall"] - r["bare_wall"] for r in runs) * 1000
        paint = statistics.median(r[f"{label}_wall"] - r["paint_wall"] for r in runs) * 1000
        print(f"{label:12s} per key: CPU {med(label + '_cpu'):.1f} ms; wall "
              f"{med(label + '_wall'):.1f} ms, minus bare app {net:.1f} ms, minus the "
              f"repainting bare app {paint:.1f} ms")


if __name__ == "__main__":
    main()
