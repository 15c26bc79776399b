"""The codebook prior: what the codebook says about a code, compared with a segment.

Each code gets a TF-IDF profile (in the study's feature space) of its name, definition,
``include`` guidance, example quotes and pattern words, and a second profile of its
``exclude`` guidance. A segment's raw prior is ``cos(segment, profile) - EXCLUDE_WEIGHT *
cos(segment, exclude profile)``. Raw cosines depend on how long the guidance is, so each
code's prior is scaled by its best matches in the study (the 99th percentile, at least
``COSINE_FLOOR``) and capped at ``prior_max``: the segments that fit a code's description
best get a modest score that a rule hit or a trained model outranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from coder.learn.features import Featurizer

EXCLUDE_WEIGHT = 0.5
COSINE_FLOOR = 0.12
_QUANTILE = 0.99


def profile_text(code: dict[str, Any]) -> str:
    """The words a code's description is made of (not its exclude guidance)."""
    parts = [code["name"], code.get("definition") or "", code.get("include") or ""]
    parts += list(code.get("examples") or [])
    for pattern in code.get("patterns") or []:
        if isinstance(pattern, str):
            parts.append(pattern)
        else:
            for token in pattern:
                for key in ("LEMMA", "LOWER", "ORTH", "TEXT", "NORM"):
                    value = token.get(key)
                    if isinstance(value, str):
                        parts.append(value)
                    elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                        parts += [str(v) for v in value["IN"]]
    return "\n".join(p for p in parts if p)


class CodebookPrior:
    """Profiles of codes; :meth:`score` gives each segment's prior for each code."""

    def __init__(self, codes: Sequence[dict[str, Any]], featurizer: Featurizer,
                 nlp_model: str = "", prior_max: float = 0.45):
        from coder.nlp import pipeline

        self.prior_max = prior_max
        pipe = pipeline(nlp_model)
        texts = [profile_text(c) for c in codes] + [c.get("exclude") or "" for c in codes]
        lemmas = [lem for lem, _ in pipe.analyse(texts)]
        matrix = featurizer.vectorize_text(lemmas)
        n = len(codes)
        # Feature-major dense profiles: a segment block times these is one BLAS-friendly call.
        self.include = np.asarray(matrix[:n].T.todense(), dtype=np.float32)
        self.exclude = np.asarray(matrix[n:].T.todense(), dtype=np.float32)
        self.scale = np.full(n, COSINE_FLOOR, dtype=np.float32)

    def raw(self, X: sp.csr_matrix) -> np.ndarray:
        """``cos(include) - EXCLUDE_WEIGHT * cos(exclude)`` per segment and code, >= 0."""
        if X.shape[0] == 0 or self.include.shape[1] == 0:
            return np.zeros((X.shape[0], self.include.shape[1]), dtype=np.float32)
        out = X @ self.include
        out -= EXCLUDE_WEIGHT * (X @ self.exclude)
        np.maximum(out, 0, out=out)
        return np.asarray(out, dtype=np.float32)

    def calibrate(self, raw: np.ndarray) -> None:
        """Scale each code by its best matches among these segments."""
        if raw.shape[0]:
            top = np.quantile(raw, _QUANTILE, axis=0)
            self.scale = np.maximum(top, COSINE_FLOOR).astype(np.float32)

    def rescale(self, raw: np.ndarray) -> np.ndarray:
        """Scores of raw values scaled by their own best matches (not the calibrated ones)."""
        if not raw.shape[0]:
            return raw
        top = np.maximum(np.quantile(raw, _QUANTILE, axis=0), COSINE_FLOOR)
        return np.minimum(raw / top, 1.0) * self.prior_max

    def score(self, raw: np.ndarray) -> np.ndarray:
        return np.minimum(raw / self.scale, 1.0) * self.prior_max

    def terms(self, featurizer: Featurizer, indices: np.ndarray, data: np.ndarray, col: int,
              k: int = 2) -> list[str]:
        """The words a segment (its TF-IDF row's indices and data) shares most with a code's
        profile."""
        weights = data * self.include[indices, col]
        order = np.argsort(-weights)[:k]
        return [featurizer.terms[indices[i]] for i in order if weights[i] > 0]
