"""Time playback's parts: the segment timeline, finding recordings, and mpv over its socket.

    .venv/bin/python benchmarks/bench_media.py [--segments N] [--transcripts T] [--plays P]

Needs mpv for the player figures (run with no sound output: --ao=null). Prints numbers;
asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import struct
import tempfile
import time
import wave
from pathlib import Path


def _tone(path: Path, seconds: float, rate: int = 8000) -> None:
    frame = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate)))
                     for i in range(rate))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for _ in range(int(seconds)):
            out.writeframes(frame)


def bench_timeline(segments: int) -> None:
    from coder.media.timeline import span_at, timeline

    rows = []
    for i in range(segments):  # every other segment timed, as with sparse [hh:mm:ss] labels
        timed = i % 2 == 0
        rows.append({"id": i, "ordinal": i + 1, "start": i * 200, "end": i * 200 + 180,
                     "time_start": i * 12.0 if timed else None, "time_end": None})
    started = time.perf_counter()
    spans = timeline(rows, duration=segments * 12.0)
    built = time.perf_counter() - started
    starts = [s.start for s in spans]
    started = time.perf_counter()
    for k in range(10_000):
        span_at(spans, (k * 7.3) % (segments * 12.0), starts)
    lookups = (time.perf_counter() - started) / 10_000
    print(f"timeline of {segments:,} segments: {built * 1000:.1f} ms; "
          f"segment at a position: {lookups * 1e6:.1f} µs")


def bench_find(transcripts: int) -> None:
    from coder.media.find import find_media

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "transcripts"
        folder.mkdir()
        for i in range(transcripts):
            (folder / f"interview-{i:04d}.vtt").write_text("WEBVTT\n")
            (folder / f"interview-{i:04d}.m4a").write_bytes(b"")
        rows = [{"source_path": f"transcripts/interview-{i:04d}.vtt", "metadata": {}}
                for i in range(transcripts)]
        started = time.perf_counter()
        listings: dict = {}
        found = [find_media(root, row, None, listings) for row in rows]
        elapsed = time.perf_counter() - started
        assert all(found)
        print(f"finding the recordings of {transcripts:,} transcripts in one folder: "
              f"{elapsed * 1000:.0f} ms")


def bench_mpv(plays: int) -> None:
    import shutil

    from coder.media.mpv import Mpv

    if shutil.which("mpv") is None:
        print("mpv is not installed: no player figures")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten-minutes.wav"
        _tone(path, 600)
        player = Mpv(["--ao=null", "--vo=null"])
        started = time.perf_counter()
        player.start()
        up = time.perf_counter() - started
        started = time.perf_counter()
        player.load(path)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(200):
            player.get("time-pos")
        ipc = (time.perf_counter() - started) / 200
        to_start, misses = [], []
        for k in range(plays):
            begin = 30.0 + k * 37.0
            started = time.perf_counter()
            player.play_range(begin, begin + 1.0)
            to_start.append(time.perf_counter() - started)
            player.wait_paused(5.0)
            misses.append(abs((player.position or 0.0) - (begin + 1.0)))
        player.close()
    print(f"mpv start {up * 1000:.0f} ms, load a 10-minute WAV {loaded * 1000:.0f} ms, "
          f"one property over the socket {ipc * 1e6:.0f} µs")
    print(f"play a segment ({plays} plays): seek and start {statistics.median(to_start) * 1000:.0f}"
          f" ms median, {max(to_start) * 1000:.0f} ms max; stop at its end within "
          f"{statistics.median(misses) * 1000:.0f} ms median, {max(misses) * 1000:.0f} ms max")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--transcripts", type=int, default=1_000)
    parser.add_argument("--plays", type=int, default=10)
    args = parser.parse_args()
    bench_timeline(args.segments)
    bench_find(args.transcripts)
    bench_mpv(args.plays)


if __name__ == "__main__":
    main()
