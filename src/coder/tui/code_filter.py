"""Ranking codes for the codebook filter: names first, definitions last.

A query matches a code when each of its words matches the code's name (as a prefix of the
name, of a word in it, or as letters in order) or, failing that, a word of its definition.
Matches rank: the name starts with the query, then every word starts a word of the name,
then the name contains the query, then the query is the initials of the name's words
("stm": seat-time mandates), then its letters appear in order in the name (fuzzy), then
the definition (or "use when") has the words. Ties keep the codebook's order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

NAME_PREFIX, NAME_WORDS, NAME_CONTAINS, NAME_INITIALS, NAME_FUZZY, DEFINITION = range(6)
WHY = {NAME_PREFIX: "name starts so", NAME_WORDS: "words of the name",
       NAME_CONTAINS: "in the name", NAME_INITIALS: "initials of the name",
       NAME_FUZZY: "letters of the name", DEFINITION: "in its definition"}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _in_order(letters: str, text: str) -> bool:
    found = iter(text)
    return all(ch in found for ch in letters)


def match_rank(code: Mapping[str, Any], query: str) -> int | None:
    """How well ``code`` matches ``query`` (lower is better), or None."""
    words = _words(query)
    if not words:
        return NAME_PREFIX
    name = code["name"].casefold()
    flat = " ".join(_words(name))
    joined = " ".join(words)
    if flat.startswith(joined) or name.startswith(query.casefold().strip()):
        return NAME_PREFIX
    name_words = _words(name)
    if all(any(w.startswith(q) for w in name_words) for q in words):
        return NAME_WORDS
    if all(q in name for q in words):
        return NAME_CONTAINS
    if len(words) == 1 and len(joined) >= 2 and _in_order(
            joined, "".join(w[0] for w in name_words)) and joined[0] == name_words[0][0]:
        return NAME_INITIALS
    if all(_in_order(q, name.replace(" ", "")) for q in words) and len(joined) >= 3:
        return NAME_FUZZY
    text = " ".join(str(code.get(k) or "") for k in ("definition", "include"))
    text_words = set(_words(text)) | set(name_words)
    if all(any(w.startswith(q) for w in text_words) for q in words):
        return DEFINITION
    return None


def rank_codes(codes: Iterable[Mapping[str, Any]], query: str) -> list[tuple[int, int]]:
    """``(code id, rank)`` of the codes matching ``query``, best first."""
    ranked = [(rank, n, code["id"]) for n, code in enumerate(codes)
              if (rank := match_rank(code, query)) is not None]
    return [(cid, rank) for rank, _, cid in sorted(ranked)]


def fit_name(name: str, width: int) -> str:
    """``name`` in ``width`` cells: cut in the middle, so both its start and its end show
    (siblings often share a start: "leadership vision…", "leadership support…")."""
    width = max(width, 5)
    if len(name) <= width:
        return name
    head = (width - 1) * 3 // 5
    return name[:head] + "…" + name[len(name) - (width - 1 - head):]
