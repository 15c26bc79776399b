"""Units of agreement: who gave which code where, as numpy arrays.

A unit is a segment. ``known[c, u]`` says whether coder ``c``'s value on unit ``u`` is
known: the coder reviewed the segment (or, with ``all_segments``, always, so that "not
reviewed" counts as "absent"). ``applied[c, u, k]`` says whether the coder gave code ``k``
there. Codings on segments a coder did not review are not counted (their number is kept in
``ignored``): without the reviewed mark, "absent" and "not yet looked at" look the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError
from coder.store.db import Store

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Units:
    """Everything the statistics need, for ``coders`` on the units in scope."""

    unit: str  # "segment" or "character"
    coders: list[str]
    codes: list[dict[str, Any]]  # every code in tree order: id, name, parent_id, path,
    #                              definition, exclusive (store.agreement.code_tree)
    transcripts: list[str]  # names; ``transcript`` indexes into this
    transcript: np.ndarray  # (N,) transcript index of each unit
    segment: np.ndarray  # (N,) segment id of each unit (the one a character run is in)
    ordinal: np.ndarray  # (N,) that segment's number in its transcript
    known: np.ndarray  # (C, N) bool
    applied: np.ndarray  # (C, N, K) bool, K = len(codes)
    weight: np.ndarray | None = None  # (N,) characters per unit, None for segments
    all_segments: bool = False
    ignored: dict[str, int] = field(default_factory=dict)  # coder -> codings not counted

    @property
    def code_index(self) -> dict[int, int]:
        """Code id -> column of ``applied``."""
        return {code["id"]: k for k, code in enumerate(self.codes)}

    def groups(self) -> list[tuple[int, list[int]]]:
        """Exclusive codes with children: (column of the code, columns of its children)."""
        out = []
        for k, code in enumerate(self.codes):
            if code["exclusive"]:
                children = [j for j, c in enumerate(self.codes) if c["parent_id"] == code["id"]]
                if children:
                    out.append((k, children))
        return out


def choose_coders(store: Store, coders: list[str] | None, transcript_ids: list[int] | None,
                  all_segments: bool, exclude: tuple[str, ...] | None = None) -> list[str]:
    """The coders to compare: those named, else everyone who reviewed a segment in scope
    (with ``all_segments``, or coded one), except ``exclude`` (default ``consensus`` and
    ``auto``)."""
    from coder.store.agreement import NOT_COMPARED, all_coders, coders_with_work, has_work

    exclude = NOT_COMPARED if exclude is None else exclude
    if coders:
        unknown = [c for c in coders if not has_work(store, c)]
        if unknown:
            known = all_coders(store)
            raise CoderError(f"no work by coder(s) {', '.join(unknown)} in this study "
                             f"(coders: {', '.join(sorted(known)) or 'none'})")
        if len(set(coders)) != len(coders):
            raise CoderError("a coder is named twice in --coders")
        chosen = list(coders)
    else:
        chosen = [c for c in coders_with_work(store, transcript_ids, codings_too=all_segments)
                  if c not in exclude]
    if len(chosen) < 2:
        what = "coded or reviewed" if all_segments else "reviewed"
        raise CoderError(
            "agreement needs at least two coders; "
            + (f"only {chosen[0]} {what} segments here" if chosen else f"nobody {what} "
               "segments here")
            + ("" if all_segments or coders else " (--all-segments also counts coders who "
               "coded without marking segments reviewed)"))
    return chosen


def load_units(store: Store, coders: list[str], transcript_ids: list[int] | None = None, *,
               all_segments: bool = False) -> Units:
    """Segments in scope as units, with each coder's reviewed marks and codes."""
    import numpy as np

    from coder.store.agreement import (
        code_tree,
        coding_array,
        reviewed_array,
        scope_segments,
        transcript_names,
    )

    codes = code_tree(store)
    segments = scope_segments(store, transcript_ids)
    names = transcript_names(store)
    seg_ids = np.array([s[0] for s in segments], dtype=np.int64)
    tids = np.array([s[1] for s in segments], dtype=np.int64)
    order = np.argsort(seg_ids, kind="stable")
    sorted_ids = seg_ids[order]
    used_tids = list(dict.fromkeys(tids.tolist()))  # in document order (by name)
    lookup = np.zeros(max(used_tids, default=0) + 1, dtype=np.int64)
    lookup[used_tids] = np.arange(len(used_tids))
    transcript = lookup[tids]

    def locate(ids: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit index of each segment id, and which ids are in scope."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(sorted_ids):
            return np.zeros(0, dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        found = sorted_ids[pos] == ids
        return order[pos[found]], found

    n, k = len(segments), len(codes)
    column = np.full(max((c["id"] for c in codes), default=0) + 1, -1, dtype=np.int64)
    for j, code in enumerate(codes):
        column[code["id"]] = j
    known = np.ones((len(coders), n), dtype=bool) if all_segments else \
        np.zeros((len(coders), n), dtype=bool)
    applied = np.zeros((len(coders), n, k), dtype=bool)
    ignored: dict[str, int] = {}
    for c, coder in enumerate(coders):
        if not all_segments:
            units, _ = locate(reviewed_array(store, coder))
            known[c, units] = True
        pairs = coding_array(store, coder)
        if not len(pairs):
            continue
        units, found = locate(pairs[:, 0])
        cols = column[pairs[found, 1]]
        counted = known[c, units]
        applied[c, units[counted], cols[counted]] = True
        if not counted.all():
            ignored[coder] = int((~counted).sum())
    return Units(unit="segment", coders=list(coders), codes=codes,
                 transcripts=[names[t] for t in used_tids], transcript=transcript,
                 segment=seg_ids, ordinal=np.array([s[2] for s in segments], dtype=np.int64),
                 known=known, applied=applied, all_segments=all_segments,
                 ignored=ignored)
