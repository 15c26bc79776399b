"""Open the workbench on a generated 100,000-segment study (100 transcripts of 1,000 turns),
driven by Pilot: the home screen, Enter on the first transcript to Pilot seeing the app idle,
one key pressed while the model trains (in its own process), and when the suggestions show.

    python benchmarks/bench_tui_study.py [--transcripts 100] [--turns 1000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import sentences  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def make_study(root: Path, transcripts: int, turns: int) -> Path:
    from coder.codebook import load_codebook
    from coder.importer import ImportOptions, import_paths
    from coder.store.codes import apply_codebook
    from coder.store.db import Store
    from coder.study import init_study

    study = init_study(root / "study", "bench")
    rng = random.Random(7)
    pool = sentences()
    paths = []
    for t in range(transcripts):
        lines = []
        for n in range(turns):
            speaker = "Interviewer" if n % 2 == 0 else "Maria Lopez"
            lines.append(f"{speaker}: {' '.join(rng.sample(pool, rng.randint(1, 3)))}\n")
        path = root / f"interview-{t:03d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    with Store(study.db_path) as store:
        apply_codebook(store, load_codebook(REPO / "codebooks" / "personalized-learning.yaml"))
        import_paths(store, study, paths, ImportOptions())
    return study.root


async def open_once(root: Path) -> str:
    from coder.tui import CoderApp

    start = time.perf_counter()
    app = CoderApp(root, "bench")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        home = time.perf_counter() - start
        enter = time.perf_counter()
        await pilot.press("enter")
        await pilot.pause()
        idle = time.perf_counter() - enter
        key = time.perf_counter()
        await pilot.press("j")
        key = time.perf_counter() - key
        screen = app.screen
        while (screen.suggester is None or not screen.suggestion_cache) and (
                time.perf_counter() - enter < 300):
            await pilot.pause(0.1)
        shown = time.perf_counter() - enter
    return (f"home screen {home * 1000:.0f} ms; Enter to idle {idle * 1000:.0f} ms; a key "
            f"meanwhile {key * 1000:.0f} ms; suggestions shown after {shown:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=100)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-tui-study-"))
    try:
        made = time.perf_counter()
        root = make_study(work, args.transcripts, args.turns)
        print(f"study made in {time.perf_counter() - made:.1f} s", flush=True)
        for _ in range(args.repeat):
            print(asyncio.run(open_once(root)), flush=True)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
