"""Generate a large, realistic study: interview transcripts with speaker turns.

Sentences are drawn from the demo study's own transcripts (so the vocabulary, sentence
lengths and punctuation are those of real interviews), with speaker labels, timestamps
and YAML front matter as transcription services write them.

    python benchmarks/generate.py OUT_DIR [--transcripts 200] [--words 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_LABEL = re.compile(r"^[^\s:][^:\n]{0,40}:\s+", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAMES = ["Maria Lopez", "James Chen", "Dr. Aisha Bello", "Tom O'Brien", "Priya Natarajan",
          "Zoë Müller", "Samuel Okafor", "Linda Park", "Jean-Luc Martin", "Hannah Schmidt"]
_SITES = ["Ephrata Area", "Lindsay Unified", "Ligonier Valley", "Cherryfield", "Providence"]


def sentences() -> list[str]:
    """Every sentence spoken in the demo study's transcripts."""
    found: list[str] = []
    for path in sorted((REPO / "transcripts").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for para in _LABEL.sub("", body).split("\n"):
            found += [s.strip() for s in _SENTENCE.split(para) if len(s.split()) >= 3]
    if not found:
        raise SystemExit("no demo transcripts to draw sentences from")
    return found


def write_study(out: Path, transcripts: int, words: int, seed: int) -> int:
    """Write ``transcripts`` files totalling about ``words`` words; returns the word count."""
    rng = random.Random(seed)
    pool = sentences()
    out.mkdir(parents=True, exist_ok=True)
    per_file = words // transcripts
    total = 0
    for n in range(1, transcripts + 1):
        people = rng.sample(_NAMES, rng.randint(2, 4))
        lines = ["---", "kind: " + rng.choice(["interview", "focus-group"]),
                 f"site: {rng.choice(_SITES)}", f"date: 2019-{rng.randint(1, 12):02d}-"
                 f"{rng.randint(1, 28):02d}", "interviewer: Interviewer", "---", ""]
        count, seconds = 0, 0
        while count < per_file:
            speaker = "Interviewer" if rng.random() < 0.3 else rng.choice(people)
            turn: list[str] = []
            for _ in range(rng.randint(1, 8) if speaker != "Interviewer" else 1):
                turn.append(rng.choice(pool))
            text = " ".join(turn)
            count += len(text.split())
            stamp = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
            lines += [f"[{stamp}] {speaker}: {text}", ""]
            seconds += len(text.split()) // 2 + 3
        (out / f"site{n:03d}-interview.md").write_text("\n".join(lines), encoding="utf-8")
        total += count
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    total = write_study(args.out, args.transcripts, args.words, args.seed)
    print(f"wrote {args.transcripts} transcripts, {total} words, in {args.out}")


if __name__ == "__main__":
    main()
