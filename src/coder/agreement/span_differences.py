"""Where coders gave a segment the same code on different words: span disagreements.

At segment level two coders who both coded a turn with a code agree, whatever words each
marked. Compared by characters (``--unit character``) they disagree when the characters
their codings of that code cover differ. A coding without a span covers its whole segment
(white space at the edges aside), so a whole-segment coding and a span of part of the
segment differ too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coder.spans import merge, strip_span
from coder.store.db import Store

if TYPE_CHECKING:
    from coder.agreement.units import Units

WHOLE = "(whole segment)"
Coverage = dict[str, list[tuple[int, int]]]  # coder -> covered characters (segment offsets)


def span_differences(store: Store, units: Units,
                     columns: list[int] | None = None) -> dict[tuple[int, int], Coverage]:
    """``{(unit index, column of applied): coverage per coder}`` for each segment and code
    (of ``columns``, default every code) that every coder with a value there gave, at least
    two of them, but not on the same characters."""
    import numpy as np

    from coder.store.agreement import segment_details
    from coder.store.spans import coded_spans

    columns = list(range(len(units.codes))) if columns is None else list(columns)
    applied = units.applied[:, :, columns] & units.known[:, :, None]
    known = units.known.sum(axis=0)[:, None]
    unit_index, code_index = np.nonzero((known >= 2) & (applied.sum(axis=0) == known))
    spans = {coder: coded_spans(store, coder) for coder in units.coders}
    candidates = []
    for u, g in zip(unit_index.tolist(), code_index.tolist(), strict=True):
        key = (int(units.segment[u]), units.codes[columns[g]]["id"])
        if any(key in spans[c] for c in units.coders):  # all whole-segment: the same
            candidates.append((u, g, key))
    texts = segment_details(store, [key[0] for _, _, key in candidates])
    out: dict[tuple[int, int], Coverage] = {}
    for u, g, key in candidates:
        text = texts[key[0]]["text"]
        cover = {coder: covered(text, spans[coder].get(key))
                 for i, coder in enumerate(units.coders) if units.known[i, u]}
        if len({tuple(v) for v in cover.values()}) > 1:
            out[(u, g)] = cover
    return out


def covered(text: str, spans: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
    """The characters of a segment a coding covers: its spans, or (None) the whole text."""
    if not spans:
        return [strip_span(text, 0, len(text))] if text.strip() else []
    return merge([strip_span(text, a, b) for a, b in spans])


def words(text: str, cover: list[tuple[int, int]]) -> list[str]:
    """The covered words, one string per span; :data:`WHOLE` for the whole text."""
    if cover == covered(text, None):
        return [WHOLE]
    return [text[a:b] for a, b in cover]
