"""A coder's work as label matrices over the corpus rows and code columns.

* positive: the coder gave the segment the code;
* negative: the coder reviewed the segment without giving it the code (a review made
  before the code existed says nothing about it), or rejected the code when it was
  suggested there (and has not given it since);
* anything else (segments not yet reviewed) is neither: it never trains the model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from coder.learn.corpus import Corpus
from coder.store.db import Store
from coder.store.learner import learner_labels


@dataclass
class Labels:
    """Boolean matrices, rows = corpus rows, columns = codes."""

    coded: np.ndarray  # (rows, codes)
    reviewed: np.ndarray  # (rows,)
    rejected: np.ndarray  # (rows, codes)
    review_time: np.ndarray | None = None  # (rows,) seconds since the epoch (0: never)
    code_time: np.ndarray | None = None  # (codes,) when each code was created

    @classmethod
    def empty(cls, rows: int, codes: int) -> Labels:
        return cls(np.zeros((rows, codes), dtype=bool), np.zeros(rows, dtype=bool),
                   np.zeros((rows, codes), dtype=bool))

    @classmethod
    def read(cls, store: Store, coder: str, corpus: Corpus) -> Labels:
        """``coder``'s codings, reviewed marks and rejections from the study."""
        raw = learner_labels(store, coder)
        labels = cls.empty(len(corpus), len(corpus.codes))
        for pairs, target in ((raw.codings, labels.coded), (raw.rejected, labels.rejected)):
            if pairs:
                rows, cols = _locate(corpus, np.array(pairs, dtype=np.int64))
                target[rows, cols] = True
        if raw.reviewed:
            segs = np.array([seg for seg, _ in raw.reviewed], dtype=np.int64)
            times = _seconds([at for _, at in raw.reviewed])
            rows = np.searchsorted(corpus.ids, segs)
            rows = np.clip(rows, 0, max(len(corpus.ids) - 1, 0))
            found = corpus.ids[rows] == segs
            labels.reviewed[rows[found]] = True
            labels.review_time = np.zeros(len(corpus), dtype=np.int64)
            labels.review_time[rows[found]] = times[found]
            labels.code_time = _seconds([c.get("created_at") or "" for c in corpus.codes])
        return labels

    @property
    def positive(self) -> np.ndarray:
        return self.coded

    @functools.cached_property
    def negative(self) -> np.ndarray:
        reviewed = self.reviewed[:, None]
        if self.review_time is not None and self.code_time is not None:
            reviewed = reviewed & (self.review_time[:, None] >= self.code_time[None, :])
        return (reviewed | self.rejected) & ~self.coded

    def labelled_rows(self) -> np.ndarray:
        """Rows with any label (reviewed, coded or a rejection)."""
        return np.flatnonzero(self.reviewed | self.coded.any(axis=1) | self.rejected.any(axis=1))

    def subset(self, keep_rows: np.ndarray) -> Labels:
        """The same labels with every row outside ``keep_rows`` (a boolean mask) unlabelled."""
        mask = keep_rows.astype(bool)
        return Labels(self.coded & mask[:, None], self.reviewed & mask,
                      self.rejected & mask[:, None], self.review_time, self.code_time)


def _seconds(stamps: list[str]) -> np.ndarray:
    """ISO 8601 UTC times (as the store writes them) as seconds since the epoch; 0 for ''."""
    clean = [s[:19] if s else "1970-01-01T00:00:00" for s in stamps]
    return np.array(clean, dtype="datetime64[s]").astype(np.int64)


def _locate(corpus: Corpus, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corpus rows and code columns of (segment id, code id) pairs that both exist."""
    seg, code = pairs[:, 0], pairs[:, 1]
    rows = np.searchsorted(corpus.ids, seg)
    rows = np.clip(rows, 0, max(len(corpus.ids) - 1, 0))
    found = corpus.ids[rows] == seg if len(corpus.ids) else np.zeros(len(seg), dtype=bool)
    lookup = np.full(max(corpus.col, default=0) + 2, -1, dtype=np.int64)
    for code_id, col in corpus.col.items():
        lookup[code_id] = col
    cols = lookup[np.clip(code, 0, len(lookup) - 1)]
    cols[code >= len(lookup)] = -1
    ok = found & (cols >= 0)
    return rows[ok], cols[ok]
