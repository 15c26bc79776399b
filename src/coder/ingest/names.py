"""Speaker names written without a colon (``Tim Davis There are several things…``).

A name counts only when it recurs as the leading words of two or more cues (or lines)
followed by the start of a sentence (``Raymond says that…`` is prose, not a turn), is
made of capitalised words that never appear in lower case elsewhere in the file (so
``So``, ``The``, ``Yeah`` are not names) and are not common sentence starters or
``I``/``OK``; or when it is listed
in ``transcripts/speakers.csv``. Never from a single line.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_][\w'’.\-]*")
_ALWAYS_CAPITAL = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'll", "i’ll", "i'd", "i’d",
                             "ok", "okay", "mr", "mrs", "ms", "dr"})
# Words that start sentences in English, German, French, Spanish and Dutch: never names.
_STARTER_WORDS = """
a an the and but or so then yes yeah no not now well oh ah um uh hm hmm right sure just
this that these those there here it its it's he she we you they his her our your their my
what when where why who how which if because as at in on of for to from with by about after
before all some any one two three first next also maybe actually really like okay alright
thanks thank please hello hi good great yep nope
der die das ein eine und aber oder also ja nein nicht doch dann wenn weil ich du er sie es
wir ihr mein dein sein unser was wie wo warum wer genau gut na so
le la les un une et mais ou donc alors oui non je tu il elle nous vous ils elles ce cette
el los las uno y pero o entonces sí yo tú él ella nosotros pues bueno
de het een en maar of dus ja nee ik jij hij zij wij
"""
_STARTERS = frozenset(_STARTER_WORDS.split())
MAX_WORDS = 3


def leading_names(lines: list[str], known: frozenset[str] = frozenset()) -> list[str]:
    """Names that start lines often enough to be speakers, longest first."""
    lower = {w for line in lines for w in line.split() if w[:1].islower()}
    counts: Counter[str] = Counter()
    for line in lines:
        words = line.split(None, MAX_WORDS + 1)
        for k in range(1, min(MAX_WORDS, len(words) - 1) + 1):
            if not _opens_sentence(words[k]):
                continue  # "Raymond says that…" is prose about Raymond, not his turn
            word = words[k - 1]
            folded = word.lower()
            if not (_WORD.fullmatch(word) and word[0].isupper()) or folded in lower \
                    or folded in _ALWAYS_CAPITAL or folded.rstrip(".,") in _STARTERS:
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
        if line.startswith(name + " ") and _opens_sentence(line[len(name) + 1:].lstrip()):
            return name, line[len(name) + 1:].strip()
    return None


def _opens_sentence(words: str) -> bool:
    """True when the words after a name start a sentence (a capital, a quote, a digit)."""
    first = words[:1]
    return bool(first) and (first.isupper() or first.isdigit() or first in "\"'“‘¿¡([")
