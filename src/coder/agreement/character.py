"""Character-level units, as NVivo's coding comparison counts them.

Each character of a transcript's segments is a unit; a coder's value on it is "present" for
a code when one of the coder's codings of that code covers it (a coding with a span covers
``[span_start, span_end)`` of the transcript text, one without covers its whole segment),
else "absent". As with segments, a coder's values are known inside the segments the coder
reviewed, or everywhere with ``all_segments``. Text outside every segment (front matter,
the gaps between turns) is not a unit: nobody can code it, so counting it would only add
agreement on "absent".

Characters are not stored one by one: each transcript is cut at every segment and coding
boundary into runs inside which every coder's values are constant, and a run counts with
its length as weight. The statistics are the same as over single characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coder.agreement.units import Units
from coder.store.db import Store

if TYPE_CHECKING:
    import numpy as np


def load_character_units(store: Store, coders: list[str],
                         transcript_ids: list[int] | None = None, *,
                         all_segments: bool = False) -> Units:
    """Runs of characters as weighted units, with each coder's values per code."""
    import numpy as np

    from coder.store.agreement import (
        code_tree,
        codings_by,
        reviewed_array,
        scope_segments,
        transcript_names,
    )

    codes = code_tree(store)
    column = {code["id"]: k for k, code in enumerate(codes)}
    segments = scope_segments(store, transcript_ids)
    names = transcript_names(store)
    by_transcript: dict[int, list[tuple]] = {}
    for seg in segments:
        by_transcript.setdefault(seg[1], []).append(seg)
    where = {seg[0]: seg for seg in segments}
    reviewed = [np.unique(reviewed_array(store, c)) for c in coders]
    # coverage[t][c] = list of (start, end, column) of coder c in transcript t
    coverage: dict[int, list[list[tuple[int, int, int]]]] = {
        t: [[] for _ in coders] for t in by_transcript}
    reviewed_sets = [set(r.tolist()) for r in reviewed]
    ignored: dict[str, int] = {}
    for c, coder in enumerate(coders):
        for seg_id, code_id, span_start, span_end in codings_by(store, coder, spans=True):
            found = where.get(seg_id)
            if found is None:
                continue
            if not all_segments and seg_id not in reviewed_sets[c]:
                ignored[coder] = ignored.get(coder, 0) + 1
                continue
            start, end = (found[3], found[4]) if span_start is None else (span_start, span_end)
            if end > start:
                coverage[found[1]][c].append((start, end, column[code_id]))
    parts: list[tuple[np.ndarray, ...]] = []
    for t_index, (tid, segs) in enumerate(by_transcript.items()):
        parts.append(_runs(segs, coverage[tid], reviewed, len(codes), all_segments, t_index))
    if parts:
        transcript, segment, ordinal, weight, known, applied = (
            np.concatenate([p[i] for p in parts], axis=-2 if i == 5 else -1) for i in range(6))
    else:
        transcript = segment = ordinal = np.zeros(0, dtype=np.int64)
        weight = np.zeros(0)
        known = np.zeros((len(coders), 0), dtype=bool)
        applied = np.zeros((len(coders), 0, len(codes)), dtype=bool)
    return Units(unit="character", coders=list(coders), codes=codes,
                 transcripts=[names[t] for t in by_transcript], transcript=transcript,
                 segment=segment, ordinal=ordinal, known=known, applied=applied, weight=weight,
                 all_segments=all_segments, ignored=ignored)


def _runs(segs: list[tuple], coverage: list[list[tuple[int, int, int]]],
          reviewed: list[np.ndarray], n_codes: int, all_segments: bool,
          t_index: int) -> tuple[np.ndarray, ...]:
    """One transcript cut into runs: (transcript, segment, ordinal, weight, known, applied)."""
    import numpy as np

    starts = np.array([s[3] for s in segs], dtype=np.int64)
    ends = np.array([s[4] for s in segs], dtype=np.int64)
    cuts = [starts, ends] + [np.array([x for a, b, _ in cov for x in (a, b)], dtype=np.int64)
                             for cov in coverage]
    bounds = np.unique(np.concatenate(cuts))
    lo, hi = bounds[:-1], bounds[1:]
    inside = np.searchsorted(starts, lo, side="right") - 1
    keep = (inside >= 0) & (lo < ends[np.maximum(inside, 0)])
    n_coders = len(coverage)
    # Which runs each coder's codings cover: +1 at the first run, -1 after the last.
    diff = np.zeros((n_coders, n_codes, len(bounds)), dtype=np.int32)
    for c, cov in enumerate(coverage):
        if cov:
            spans = np.array(cov, dtype=np.int64)
            np.add.at(diff[c], (spans[:, 2], np.searchsorted(bounds, spans[:, 0])), 1)
            np.add.at(diff[c], (spans[:, 2], np.searchsorted(bounds, spans[:, 1])), -1)
    covered = np.cumsum(diff, axis=2)[:, :, :-1] > 0  # (C, K, runs)
    seg_of_run = np.array([s[0] for s in segs], dtype=np.int64)[inside[keep]]
    ordinal = np.array([s[2] for s in segs], dtype=np.int64)[inside[keep]]
    if all_segments:
        known = np.ones((n_coders, len(seg_of_run)), dtype=bool)
    else:
        known = np.array([_member(seg_of_run, r) for r in reviewed],
                         dtype=bool).reshape(n_coders, len(seg_of_run))
    applied = covered[:, :, keep].transpose(0, 2, 1) & known[:, :, None]
    return (np.full(len(seg_of_run), t_index, dtype=np.int64), seg_of_run, ordinal,
            (hi - lo)[keep].astype(float), known, applied)


def _member(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Which entries of ``x`` are in the sorted array ``sorted_values``."""
    import numpy as np

    if not len(sorted_values):
        return np.zeros(len(x), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_values, x), len(sorted_values) - 1)
    return sorted_values[pos] == x
