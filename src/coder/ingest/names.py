"""Speaker names written without a colon (``Tim Davis There are several things…``).

A name counts only when it recurs as the leading words of two or more cues (or lines), is
made of capitalised words that never appear in lower case elsewhere in the file (so
``So``, ``The``, ``Yeah`` are not names), and is not ``I``/``OK``; or when it is listed
in ``transcripts/speakers.csv``. Never from a single line.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_][\w'’.\-]*")
_ALWAYS_CAPITAL = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'll", "i’ll", "i'd", "i’d",
                             "ok", "okay", "mr", "mrs", "ms", "dr"})
MAX_WORDS = 3


def leading_names(lines: list[str], known: frozenset[str] = frozenset()) -> list[str]:
    """Names that start lines often enough to be speakers, longest first."""
    lower = {w for line in lines for w in line.split() if w[:1].islower()}
    counts: Counter[str] = Counter()
    for line in lines:
        words = line.split(None, MAX_WORDS + 1)
        for k in range(1, min(MAX_WORDS, len(words) - 1) + 1):
            word = words[k - 1]
            if not (_WORD.fullmatch(word) and word[0].isupper()) or word.lower() in lower \
                    or word.lower() in _ALWAYS_CAPITAL:
                break
            counts[" ".join(words[:k])] += 1
    names = {n for n, c in counts.items() if c >= 2}
    # "Tim Davis" over "Tim" when both recur as often: the longer one is the name
    names = {n for n in names if not any(o != n and o.startswith(n + " ")
                                         and counts[o] * 2 >= counts[n] for o in names)}
    names |= {n for n in known if n}
    return sorted(names, key=len, reverse=True)


def split_leading_name(line: str, names: list[str]) -> tuple[str, str] | None:
    """``(name, words)`` when ``line`` starts with one of ``names`` and more words."""
    for name in names:
        if line.startswith(name + " ") and line[len(name) + 1:].strip():
            return name, line[len(name) + 1:].strip()
    return None
