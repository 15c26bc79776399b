"""Time moving a word selection against moving between segments, on 10,000 segments.

The same generated transcript as ``bench_tui.py``; in one run, per key, the process CPU
time and the wall time minus a bare Textual app's (see DESIGN.md on timing keys with
Pilot):
- ``j`` / ``k`` between segments, with review-on-move off (no commit) and on (one commit);
- with words selected: ``w`` (next word), ``e`` (grow by a word), ``)`` (next sentence),
  ``l`` (one character), and coding the selection with a code key (one commit) beside
  toggling the same code on the whole segment;
each in the middle of the transcript.

    python benchmarks/bench_spans.py [--segments 10000] [--presses 200]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tui import bare_press, make_study  # noqa: E402


async def _per_key(pilot, keys: list[str], presses: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(presses):
        await pilot.press(keys[n % len(keys)])
    return (time.perf_counter() - wall) / presses, (time.process_time() - cpu) / presses


async def measure(root: Path, presses: int) -> dict[str, tuple[float, float]]:
    from coder.tui import CoderApp
    from coder.tui.widgets.transcript_view import TranscriptView

    out: dict[str, tuple[float, float]] = {}
    for review in (False, True):
        app = CoderApp(root, "bench", review_on_move=review)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("enter")
            await pilot.pause()
            view = app.screen.query_one(TranscriptView)
            app.screen.go(len(view.segments) // 2)
            await pilot.pause()
            label = "segments j/k" + (" (marks reviewed)" if review else "")
            out[label] = await _per_key(pilot, ["j", "k"], presses)
            if review:
                continue
            out["segments"] = (len(view.segments), 0.0)
            # The codebook gives e, b, l, v to codes: start with shift+→ (as a user would).
            await pilot.press("shift+right")
            for name, keys in (("word w/b", ["w", "b"]),
                               ("grow e / back to one word", ["e", "b"]),
                               ("sentence ) / (", ["right_parenthesis", "left_parenthesis"]),
                               ("character l/h", ["l", "h"])):
                if view.span is None:
                    await pilot.press("shift+right")
                out[name] = await _per_key(pilot, keys, presses)
            out["code the selection (i, one commit)"] = await _per_key(pilot, ["i"], presses)
            await pilot.press("escape")
            out["code the whole segment (i, one commit)"] = await _per_key(pilot, ["i"],
                                                                           presses)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-span-bench-"))
    try:
        root = make_study(work, args.segments)
        bare_wall, bare_cpu = asyncio.run(bare_press(args.presses))
        result = asyncio.run(measure(root, args.presses))
    finally:
        shutil.rmtree(work)
    print(f"date: {date.today()}  machine: {platform.machine()}, Python "
          f"{platform.python_version()}")
    print(f"transcript: {int(result.pop('segments')[0]):,} segments")
    print(f"bare Textual app per press: wall {bare_wall * 1000:.1f} ms, "
          f"CPU {bare_cpu * 1000:.1f} ms")
    for label, (wall, cpu) in result.items():
        print(f"{label:38s} per key: CPU {cpu * 1000:5.1f} ms; wall minus bare app "
              f"{(wall - bare_wall) * 1000:5.1f} ms")


if __name__ == "__main__":
    main()
