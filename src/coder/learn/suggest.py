"""The in-process suggester: load once, update after each change, ask for suggestions.

A :class:`Suggester` holds a study's corpus (features, rule hits, priors), one coder's
labels and that coder's per-code models. It holds no database connection: every method
that reads the study takes a :class:`~coder.store.db.Store` (SQLite connections belong to
one thread), so the workbench can keep one Suggester, call :meth:`Suggester.update` from a
worker thread and :meth:`Suggester.suggest` from the UI thread; a lock makes each call see
a whole state, and training happens outside the lock.

Nothing is ever read from or written to the study folder besides the database: models are
retrained from the codings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coder.learn.corpus import Corpus
from coder.learn.labels import Labels
from coder.learn.model import (
    CodeModel,
    LearnSettings,
    Similarity,
    blend,
    fit_code,
    rule_matrix,
    rule_reliability,
    sigmoid,
    smoothed_similarity,
)
from coder.learn.rules import pattern_label
from coder.store.db import Store

_SHARE = 0.25  # a source is named when it gives at least this share of the score
_TYPICAL = 1.5  # a word explains a code when its examples use it this much more than average
_CONTEXT_SHARE = 0.5  # "context" is named when the neighbours give this share of the model's
_SOURCES = {flags: tuple(name for bit, name in ((1, "rule"), (2, "prior"), (4, "model"),
                                                (8, "context"))
                         if flags & bit) for flags in range(16)}


@dataclass(frozen=True)
class Evidence:
    """Why a code is suggested: a pattern hit, or words the model or the codebook weigh.

    ``start``/``end`` are character offsets into the segment's text (None for a model or
    prior term when no store was given to look its place up)."""

    source: str  # "rule" | "model" | "prior"
    text: str
    start: int | None = None
    end: int | None = None
    detail: str = ""  # the pattern for a rule hit

    def to_json(self) -> dict[str, Any]:
        out = {"source": self.source, "text": self.text, "start": self.start, "end": self.end}
        if self.detail:
            out["pattern"] = self.detail
        return out


@dataclass(frozen=True)
class Suggestion:
    """A code suggested for a segment, with its blended score in 0-1."""

    segment_id: int
    code_id: int
    code: str
    score: float
    threshold: float  # the code's confident threshold
    sources: tuple[str, ...]  # "rule", "prior", "model", strongest contributions
    evidence: tuple[Evidence, ...] = ()

    @property
    def confident(self) -> bool:
        return self.score >= self.threshold


@dataclass
class UpdateReport:
    """What one :meth:`Suggester.update` did."""

    refit: list[int] = field(default_factory=list)  # code ids trained again
    pending: int = 0  # codes that still want training (call update again)
    added: int = 0  # segments new to the suggester
    removed: int = 0
    codes_changed: bool = False
    labels_changed: bool = False
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.refit or self.added or self.removed or self.codes_changed
                    or self.labels_changed)


class Suggester:
    """Suggestions for one coder (or the consensus layer), kept up to date incrementally."""

    def __init__(self, coder: str, corpus: Corpus, settings: LearnSettings):
        self.coder = coder
        self.settings = settings
        self.corpus = corpus
        self.labels = Labels.empty(len(corpus), len(corpus.codes))
        self.models: dict[int, CodeModel] = {}
        self._lock = threading.RLock()
        self._fit_pos = np.zeros((len(corpus), len(corpus.codes)), dtype=bool)
        self._fit_neg = np.zeros_like(self._fit_pos)
        self._fit_rej = np.zeros_like(self._fit_pos)
        self._fitted: set[int] = set()  # code ids trained (or found untrainable) on labels
        self._R = np.zeros_like(self._fit_pos, dtype=np.float32)  # rule reliability
        self._H = np.zeros_like(self._R)  # 1 where a pattern of the code hits the segment
        self._hit_scores = np.zeros(0, dtype=np.float32)
        self._last_similarity: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64),
                                                                np.zeros((0, 0)))
        self._arrays()

    # -- building and updating -------------------------------------------------------------
    @classmethod
    def load(cls, store: Store, coder: str, settings: LearnSettings | None = None, *,
             train: bool = True) -> Suggester:
        """Read the study, and train every code on ``coder``'s work (unless ``train=False``,
        leaving the training to :meth:`update`)."""
        settings = settings or LearnSettings()
        corpus = Corpus.build(store, settings.nlp_model, settings.prior_max)
        suggester = cls(coder, corpus, settings)
        suggester._take_labels(Labels.read(store, coder, corpus))
        if train:
            suggester.train()
        return suggester

    @classmethod
    def from_corpus(cls, corpus: Corpus, labels: Labels, coder: str = "",
                    settings: LearnSettings | None = None) -> Suggester:
        """A suggester on an already built corpus and given labels (for evaluation)."""
        suggester = cls(coder, corpus, settings or LearnSettings())
        suggester._take_labels(labels)
        suggester.train()
        return suggester

    def train(self, code_ids: Iterable[int] | None = None) -> list[int]:
        """Train the given codes (default: all) now; returns the codes trained."""
        wanted = [c["id"] for c in self.corpus.codes] if code_ids is None else list(code_ids)
        done = []
        for code_id in wanted:
            self._fit(code_id)
            done.append(code_id)
        self._arrays()
        return done

    def update(self, store: Store, *, budget: float = 0.4) -> UpdateReport:
        """Follow the study: new or deleted segments, codebook edits, and the coder's new
        codings, reviewed marks and verdicts; then retrain the codes that need it, most
        urgent first, for about ``budget`` seconds (at least one code). ``pending`` says
        how many codes still want training: call again (say, from a debounced worker).
        Call it from one thread at a time; :meth:`suggest` may run meanwhile."""
        started = time.perf_counter()
        report = UpdateReport()
        with self._lock:
            old_ids = self.corpus.ids.copy()
            old_codes = [c["id"] for c in self.corpus.codes]
            changes = self.corpus.sync(store)
            report.added, report.removed = changes["added"], changes["removed"]
            report.codes_changed = bool(changes["codes"])
            if report.added or report.removed or report.codes_changed:
                self._realign(old_ids, old_codes)
            if report.codes_changed:  # patterns and priors are features: train all again
                self._fitted = set()
            labels = Labels.read(store, self.coder, self.corpus)
            report.labels_changed = self._labels_differ(labels)
            if report.labels_changed or report.added or report.removed or report.codes_changed:
                self._take_labels(labels)
        queue = self._work()
        while queue and (not report.refit or time.perf_counter() - started < budget):
            code_id = queue.pop(0)
            self._fit(code_id)
            report.refit.append(code_id)
        if report.refit or report.codes_changed or report.added or report.removed:
            self._arrays()
        report.pending = len(queue)
        report.seconds = time.perf_counter() - started
        return report

    def _labels_differ(self, labels: Labels) -> bool:
        old = self.labels
        return not (np.array_equal(old.coded, labels.coded)
                    and np.array_equal(old.reviewed, labels.reviewed)
                    and np.array_equal(old.rejected, labels.rejected)
                    and np.array_equal(old.negative, labels.negative))

    def _take_labels(self, labels: Labels) -> None:
        with self._lock:
            self.labels = labels
            rows, cols, pats = self.corpus.hit_arrays()
            self._hit_scores = rule_reliability(rows, cols, pats, labels.positive,
                                                labels.negative, self.settings)
            shape = (len(self.corpus), len(self.corpus.codes))
            self._R = rule_matrix(*shape, rows, cols, self._hit_scores)
            self._H = rule_matrix(*shape, rows, cols, np.ones(len(rows), dtype=np.float32))

    def _realign(self, old_ids: np.ndarray, old_codes: list[int]) -> None:
        """Carry the training snapshots over to new rows and columns."""
        new_ids = self.corpus.ids
        where = np.searchsorted(old_ids, new_ids)
        where = np.clip(where, 0, max(len(old_ids) - 1, 0))
        had_row = (old_ids[where] == new_ids) if len(old_ids) else np.zeros(len(new_ids), bool)
        old_col = {code_id: n for n, code_id in enumerate(old_codes)}
        shape = (len(new_ids), len(self.corpus.codes))
        for name in ("_fit_pos", "_fit_neg", "_fit_rej"):
            old = getattr(self, name)
            new = np.zeros(shape, dtype=bool)
            for col, code in enumerate(self.corpus.codes):
                if code["id"] in old_col:
                    new[had_row, col] = old[where[had_row], old_col[code["id"]]]
            setattr(self, name, new)
        present = {c["id"] for c in self.corpus.codes}
        self.models = {k: m for k, m in self.models.items() if k in present}
        self._fitted &= present
        if len(new_ids) != len(old_ids) or not np.array_equal(new_ids, old_ids):
            remap = np.full(len(old_ids), -1, dtype=np.int64)  # old row -> new row
            remap[where[had_row]] = np.flatnonzero(had_row)
            for model in self.models.values():  # out-of-fold scores are kept by row
                moved = remap[model.oof_rows]
                model.oof_rows, model.oof_scores = moved[moved >= 0], model.oof_scores[moved >= 0]
        if self.corpus.X.shape[1] and any(m.coef.shape[0] != self.corpus.X.shape[1]
                                          for m in self.models.values()):
            self.models, self._fitted = {}, set()

    def _work(self) -> list[int]:
        """Codes to train, most urgent first: new or changed positives and rejections, then
        codes whose negatives grew by 5 % (and at least 5) since they were trained."""
        with self._lock:
            pos, neg, rej = self.labels.positive, self.labels.negative, self.labels.rejected
            urgent, stale = [], []
            changed_pos = (pos != self._fit_pos).sum(axis=0)
            changed_rej = (rej != self._fit_rej).sum(axis=0)
            changed_neg = (neg != self._fit_neg).sum(axis=0)
            fit_neg = self._fit_neg.sum(axis=0)
            for col, code in enumerate(self.corpus.codes):
                code_id = code["id"]
                if code_id not in self._fitted or changed_pos[col] or changed_rej[col]:
                    urgent.append((-int(changed_pos[col] + changed_rej[col]), col, code_id))
                elif changed_neg[col] >= max(5, 0.05 * fit_neg[col]):
                    stale.append((-int(changed_neg[col]), col, code_id))
        return [c for *_, c in sorted(urgent)] + [c for *_, c in sorted(stale)]

    def _fit(self, code_id: int) -> None:
        """Train one code on the current labels (outside the lock) and swap it in."""
        with self._lock:
            col = self.corpus.col.get(code_id)
            if col is None:
                return
            pos_col = self.labels.positive[:, col].copy()
            neg_col = self.labels.negative[:, col].copy()
            rej_col = self.labels.rejected[:, col].copy()
            hit, rule = self._H[:, col].copy(), self._R[:, col].copy()
            prior = self.corpus.Q[:, col] / self.settings.prior_max
            X = self.corpus.X
            similarity = Similarity(self.corpus.Xc, self.corpus.built_prior.include[:, col],
                                    self.corpus.context, self.settings.profile_examples)
        model = fit_code(X, code_id, np.flatnonzero(pos_col), np.flatnonzero(neg_col),
                         hit, prior, rule, self.settings, similarity)
        with self._lock:
            col = self.corpus.col.get(code_id)
            if col is None or len(pos_col) != len(self.corpus):
                return  # the corpus changed meanwhile: the next update trains it again
            if model is None:
                self.models.pop(code_id, None)
            else:
                self.models[code_id] = model
            self._fit_pos[:, col], self._fit_neg[:, col] = pos_col, neg_col
            self._fit_rej[:, col] = rej_col
            self._fitted.add(code_id)

    def _arrays(self) -> None:
        """The per-code arrays scoring uses, from the current models."""
        with self._lock:
            n_features, n_codes = self.corpus.X.shape[1], len(self.corpus.codes)
            W = np.zeros((n_features, n_codes), dtype=np.float32)
            centroids = np.zeros((n_features, n_codes), dtype=np.float32)
            bias, a, b, u, v, c = (np.zeros(n_codes, dtype=np.float32) for _ in range(6))
            weight = np.zeros(n_codes, dtype=np.float32)
            threshold = np.full(n_codes, self.settings.fallback_threshold, dtype=np.float32)
            for col, code in enumerate(self.corpus.codes):
                model = self.models.get(code["id"])
                if model is None or model.coef.shape[0] != n_features:
                    continue
                W[:, col], bias[col] = model.coef, model.intercept
                u[col], v[col] = model.rule_coef, model.prior_coef
                a[col], b[col] = model.platt
                if model.centroid.shape[0] == n_features:
                    centroids[:, col], c[col] = model.centroid, model.centroid_coef
                weight[col], threshold[col] = model.weight, model.threshold
            self._W, self._bias, self._a, self._b, self._u, self._v = W, bias, a, b, u, v
            self._centroids, self._c = centroids, c
            self._uses_centroid = bool((c != 0).any())
            self._has_model = np.array(
                [c["id"] in self.models and self.models[c["id"]].coef.shape[0] == n_features
                 for c in self.corpus.codes], dtype=bool)
            self._weight, self._threshold = weight, threshold
            # A code with too few examples for a model keeps its codebook prior, damped
            # once other codes have models: beside calibrated probabilities an undamped
            # prior outranks them (top-3 hit rate 0.74 against 0.79 on ../shared/eval).
            positives = self.labels.positive.sum(axis=0)
            damp = (positives + 1) / (self.settings.min_positives + 1)
            self._prior_scale = np.where(self._has_model.any() & ~self._has_model,
                                         np.minimum(damp, 1.0), 1.0).astype(np.float32)
            groups, parents = [], []
            for code in self.corpus.codes:
                if code.get("exclusive"):
                    kids = [self.corpus.col[c["id"]] for c in self.corpus.codes
                            if c["parent_id"] == code["id"]]
                    if kids:  # the group itself is never applied: its choices are
                        parents.append(self.corpus.col[code["id"]])
                    if len(kids) > 1:
                        groups.append(np.array(kids))
            self._groups = groups
            self._group_cols = np.array(parents, dtype=np.int64)

    # -- scoring ---------------------------------------------------------------------------
    def _parts(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model probability, rule score and prior score for rows x codes."""
        X = self.corpus.X if len(rows) == len(self.corpus) and (
            rows == np.arange(len(rows))).all() else self.corpus.X[rows]
        prior = self.corpus.Q[rows]
        decision = np.asarray(X @ self._W) + self._bias + self._u * self._H[rows] + \
            self._v * (prior / self.settings.prior_max)
        linear = self._a * decision + self._b
        if self._uses_centroid:
            linear += self._c * self._similarity(rows)
        model = sigmoid(linear).astype(np.float32)
        model[:, ~self._has_model] = 0.0  # no model: the codebook alone decides
        if not self._has_model.any() and self.corpus.Qc.shape == self.corpus.Q.shape:
            prior = self.corpus.Qc[rows]  # cold start: the codebook with the context
        return model, self._R[rows], prior

    def _similarity(self, rows: np.ndarray) -> np.ndarray:
        """Rows' similarity to each code's centroid, smoothed over their neighbours (the
        last one computed is kept for :meth:`suggest` to say where the context led)."""
        sim = smoothed_similarity(self.corpus.Xc, self._centroids, self.corpus.context, rows)
        self._last_similarity = (rows, sim)
        return sim

    def _blend(self, model: np.ndarray, rule: np.ndarray, prior: np.ndarray) -> np.ndarray:
        # A code's model holds the codebook's text already (in its centroid): only its
        # patterns lift the model. (Lifting by the prior as well: top-3 hit rate 0.67
        # against 0.75 on ../shared/eval, 0.95 against 0.93 on the demo.)
        codebook = np.where(self._has_model, rule, np.maximum(rule, prior * self._prior_scale))
        return blend(model, codebook, self._weight)

    def scores(self, segment_ids: Sequence[int] | np.ndarray, *,
               honest: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(segment ids, scores)``: blended scores of each known segment for every code
        (columns in the order of ``self.corpus.codes``). With ``honest``, a segment the
        model trained on gets its out-of-fold score instead (for comparing with people)."""
        with self._lock:
            rows = self.corpus.rows_of(segment_ids)
            scores = self._blend(*self._parts(rows))
            if honest and len(rows):
                for col, code in enumerate(self.corpus.codes):
                    model = self.models.get(code["id"])
                    if model is None or not len(model.oof_rows):
                        continue
                    at = np.searchsorted(model.oof_rows, rows)
                    at = np.clip(at, 0, len(model.oof_rows) - 1)
                    hit = model.oof_rows[at] == rows
                    scores[hit, col] = model.oof_scores[at[hit]]
            return self.corpus.ids[rows], scores

    def thresholds(self) -> dict[int, float]:
        """Each code's confident threshold."""
        with self._lock:
            return {c["id"]: float(self._threshold[n]) for n, c in enumerate(self.corpus.codes)}

    def threshold(self, code_id: int) -> float:
        return self.thresholds()[code_id]

    def _candidates(self, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Scores with codes the coder gave or rejected (and all but the best value of an
        exclusive code) set to -1."""
        out = scores.copy()
        out[self.labels.coded[rows] | self.labels.rejected[rows]] = -1.0
        return self._exclusive(out, copy=False)

    def _exclusive(self, scores: np.ndarray, copy: bool = True) -> np.ndarray:
        """Scores with exclusive groups themselves, and all but the best choice of each,
        set to -1."""
        out = scores.copy() if copy else scores
        out[:, self._group_cols] = -1.0
        for kids in self._groups:
            block = out[:, kids]
            best = block.argmax(axis=1)
            mask = np.ones_like(block, dtype=bool)
            mask[np.arange(len(block)), best] = False
            block[mask] = -1.0
            out[:, kids] = block
        return out

    def suggest(self, segment_ids: Sequence[int] | np.ndarray, *, top: int = 3,
                min_score: float | None = None, store: Store | None = None,
                honest: bool = False, evidence: bool = True) -> dict[int, list[Suggestion]]:
        """Up to ``top`` suggestions per segment, best first, scoring at least ``min_score``
        (default: each code's confident threshold). Codes the coder already gave the
        segment, or rejected there, are not suggested; nor are interviewers' turns (unless
        ``settings.include_interviewers``). With a ``store``, the words behind
        model and prior suggestions get their places in the text; ``evidence=False`` leaves
        evidence out (faster, for bulk use)."""
        with self._lock:
            rows = self._eligible(self.corpus.rows_of(segment_ids))
            model, rule, prior = self._parts(rows)
            scores = self._blend(model, rule, prior)
            if honest:
                _, scores = self.scores(self.corpus.ids[rows], honest=True)
            ranked = self._candidates(rows, scores)
            floor = self._threshold if min_score is None else np.float32(min_score)
            ok = (ranked >= floor) & (ranked > 0)
            k = max(min(top, ranked.shape[1]), 0)
            order = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
            picked_i, picked_j = np.nonzero(np.take_along_axis(ok, order, axis=1))
            cols = order[picked_i, picked_j]
            out: dict[int, list[Suggestion]] = {}
            if not len(cols):
                return out
            score = ranked[picked_i, cols]
            w = self._weight[cols]
            r = rule[picked_i, cols]
            q = np.where(self._has_model[cols], 0.0,
                         prior[picked_i, cols] * self._prior_scale[cols])
            # Each source's part of the score; a source is named when its part is the
            # largest or at least _SHARE of the score.
            m = model[picked_i, cols]
            lift = (1 - w) * np.maximum(np.maximum(r, q) - m, 0)  # the codebook's lift
            parts = np.column_stack([np.where(r >= q, lift, 0), np.where(q > r, lift, 0),
                                     score - lift])
            named = (parts >= _SHARE * score[:, None]) | (
                np.arange(3) == parts.argmax(axis=1)[:, None])
            flags = named @ np.array([1, 2, 4])
            kept_rows, kept = self._last_similarity
            smoothed = kept[picked_i, cols] if kept_rows is rows else None
            flags += 8 * (named[:, 2] & self._context_led(rows[picked_i], cols, smoothed))
            segs = self.corpus.ids[rows[picked_i]].tolist()
            thresholds = self._threshold[cols].astype(np.float64).round(4).tolist()
            codes = self.corpus.codes
            for n, (seg, col, value, flag, row) in enumerate(zip(
                    segs, cols.tolist(), score.astype(np.float64).round(4).tolist(),
                    flags.tolist(),
                    rows[picked_i].tolist(), strict=True)):
                code = codes[col]
                sources = _SOURCES[flag]
                found = self._evidence(row, col, sources) if evidence else ()
                out.setdefault(seg, []).append(Suggestion(
                    seg, code["id"], code["name"], value, thresholds[n], sources, found))
        if store is not None and out and evidence:
            _place_terms(store, self, out)
        return out

    def _evidence(self, row: int, col: int, sources: tuple[str, ...]) -> tuple[Evidence, ...]:
        """Pattern hits, and the words the model or the prior weigh most, for one code."""
        code = self.corpus.codes[col]
        evidence: list[Evidence] = []
        if "rule" in sources:
            for hit in self.corpus.hits.get(row, []):
                if hit.code_id == code["id"]:
                    evidence.append(Evidence("rule", hit.text, hit.start, hit.end,
                                             pattern_label(code["patterns"][hit.pattern])))
        X = self.corpus.X
        lo, hi = X.indptr[row], X.indptr[row + 1]
        indices, data = X.indices[lo:hi], X.data[lo:hi]
        terms = self.corpus.featurizer.terms
        if "model" in sources and hi > lo:
            # What each word adds to the model's score: its weight in the regression and,
            # when the code has a centroid, how much more its examples and codebook text
            # use the word than other codes' do; a word that is not typical of the code
            # ("years", "maybe") explains nothing.
            weights = self._a[col] * data * self._W[indices, col]
            if self._c[col]:  # words more typical of this code's examples than of others'
                mine = self._centroids[indices, col]
                typical = mine >= _TYPICAL * self._centroids[indices].mean(axis=1)
                weights = np.where(typical & (weights > 0), weights + self._c[col] * data * mine,
                                   0.0)
            for i in np.argsort(-weights)[:3]:
                if weights[i] > 0:
                    evidence.append(Evidence("model", terms[indices[i]]))
        if "prior" in sources and hi > lo:
            for term in self.corpus.built_prior.terms(self.corpus.featurizer, indices, data, col):
                evidence.append(Evidence("prior", term))
        if "context" in sources:
            evidence.append(self._context_evidence(row, col))
        return tuple(_once(evidence))

    def _context_led(self, rows: np.ndarray, cols: np.ndarray,
                     smoothed: np.ndarray | None = None) -> np.ndarray:
        """Whether the neighbouring turns give at least ``_CONTEXT_SHARE`` of the
        similarity part of each (row, code)'s model score."""
        uses = self._c[cols] != 0
        if not uses.any():
            return np.zeros(len(rows), dtype=bool)
        part = self.corpus.Xc[rows]  # each (row, code)'s own similarity, nonzero by nonzero
        per_row = np.diff(part.indptr)
        values = part.data * self._centroids[part.indices, np.repeat(cols, per_row)]
        own = np.bincount(np.repeat(np.arange(len(rows)), per_row), weights=values,
                          minlength=len(rows))
        if smoothed is None:
            smoothed = self._similarity(rows)[np.arange(len(rows)), cols]
        return uses & (smoothed > 0) & (smoothed - own >= _CONTEXT_SHARE * smoothed)

    def _context_evidence(self, row: int, col: int) -> Evidence:
        """Which neighbouring turn speaks for the code most: the question before, or the
        turn before or after."""
        context = self.corpus.context
        named = [(int(context.question[row]), "the question in"),
                 (int(context.prev[row]), "the turn before,"),
                 (int(context.next[row]), "the turn after,")]
        near = [(r, label) for r, label in named if r >= 0]
        if not near:
            return Evidence("context", "the neighbouring turns")
        values = np.asarray(self.corpus.Xc[[r for r, _ in near]] @ self._centroids[:, col])
        best, label = near[int(np.argmax(values.ravel()))]
        return Evidence("context", f"{label} ¶{int(self.corpus.ordinal[best])}")

    def pattern_hits(self, segment_id: int, code_id: int) -> list[tuple[int, int]]:
        """Where the code's codebook patterns matched in the segment (offsets into its
        text), in order; empty when none did."""
        with self._lock:
            rows = self.corpus.rows_of([segment_id])
            if not len(rows):
                return []
            return sorted((h.start, h.end) for h in self.corpus.hits.get(int(rows[0]), [])
                          if h.code_id == code_id)

    def decide(self, segment_ids: Sequence[int] | np.ndarray, *,
               min_score: float | None = None,
               honest: bool = True) -> list[tuple[int, int, float]]:
        """What the machine would code, as ``(segment id, code id, score)``: every code at
        or above ``min_score`` (default: its confident threshold), one value per exclusive
        code. Unlike :meth:`suggest` this ignores what the coder did on those segments, and
        with ``honest`` scores the segments the model trained on out-of-fold."""
        with self._lock:
            mine = self.corpus.ids[self._eligible(self.corpus.rows_of(segment_ids))]
            ids, scores = self.scores(mine, honest=honest)
            picked_i, picked_c = np.nonzero(self.confident(scores, min_score))
            codes = [c["id"] for c in self.corpus.codes]
            return [(int(ids[i]), codes[c], round(float(scores[i, c]), 4))
                    for i, c in zip(picked_i.tolist(), picked_c.tolist(), strict=True)]

    def confident(self, scores: np.ndarray, min_score: float | None = None) -> np.ndarray:
        """Which entries of a :meth:`scores` matrix are decisions: at or above the code's
        threshold (or ``min_score``), and the best value of an exclusive code."""
        with self._lock:
            ranked = self._exclusive(scores)
            floor = self._threshold if min_score is None else np.float32(min_score)
            return (ranked >= floor) & (ranked > 0)

    # -- navigation ------------------------------------------------------------------------
    def next_uncertain(self, transcript_id: int, reviewed_ids: Iterable[int] = ()) -> int | None:
        """The segment of the transcript, not in ``reviewed_ids``, whose best suggestion
        scores closest to its code's threshold (first in document order on ties)."""
        with self._lock:
            rows = self._transcript_rows(transcript_id, reviewed_ids)
            if not len(rows):
                return None
            ranked = self._candidates(rows, self._blend(*self._parts(rows)))
            best = ranked.argmax(axis=1)
            score = ranked[np.arange(len(rows)), best]
            distance = np.abs(score - self._threshold[best])
            distance[score < 0] = np.inf
            pick = np.lexsort((self.corpus.ordinal[rows], distance))[0]
            return int(self.corpus.ids[rows[pick]]) if np.isfinite(distance[pick]) else None

    def next_suggested(self, transcript_id: int, after_ordinal: int = 0,
                       reviewed_ids: Iterable[int] = ()) -> int | None:
        """The next segment after ``after_ordinal`` (not in ``reviewed_ids``) that has a
        confident suggestion; None when there is none further on."""
        with self._lock:
            rows = self._transcript_rows(transcript_id, reviewed_ids)
            rows = rows[self.corpus.ordinal[rows] > after_ordinal]
            if not len(rows):
                return None
            ranked = self._candidates(rows, self._blend(*self._parts(rows)))
            ok = (ranked >= self._threshold).any(axis=1)
            if not ok.any():
                return None
            rows = rows[ok]
            return int(self.corpus.ids[rows[np.argmin(self.corpus.ordinal[rows])]])

    def _eligible(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` less interviewers' turns (hosts, moderators, ...), unless the settings
        include them: their questions are context for the answers, not data to code."""
        if self.settings.include_interviewers or not len(rows):
            return rows
        return rows[~self.corpus.context.interviewer[rows]]

    def left_out(self) -> int:
        """How many segments are left out of suggestions as interviewers' turns."""
        if self.settings.include_interviewers:
            return 0
        return int(self.corpus.context.interviewer.sum())

    def _transcript_rows(self, transcript_id: int, skip: Iterable[int]) -> np.ndarray:
        rows = self._eligible(np.flatnonzero(self.corpus.transcript == transcript_id))
        skip = np.fromiter(skip, dtype=np.int64)
        if len(skip):
            rows = rows[~np.isin(self.corpus.ids[rows], skip)]
        return rows

    # -- reporting -------------------------------------------------------------------------
    def confidence_note(self, code_id: int) -> str:
        """Why a code's suggestions are not confident ("" when they can be): too few
        examples for a model ("1 example; needs 3 to learn from"), or too few for its
        cross-validated precision to reach the target ("12 examples; needs more to be
        sure")."""
        with self._lock:
            col = self.corpus.col.get(code_id)
            if col is None:
                return ""
            positives = int(self.labels.positive[:, col].sum())
            model = self.models.get(code_id)
            examples = f"{positives} example{'' if positives == 1 else 's'}"
            if model is None:
                if self.corpus.codes[col].get("patterns"):
                    return ""  # its pattern hits are confident on their own
                need = self.settings.min_positives
                return (f"{examples}; needs {need} to learn from" if positives < need
                        else f"{examples}; needs reviewed segments without it to learn from")
            if not model.reached:
                return f"{examples}; needs more to be sure"
            return ""

    def code_stats(self) -> list[dict[str, Any]]:
        """Per code: examples, whether it has a model, its weight and threshold."""
        with self._lock:
            pos, neg = self.labels.positive.sum(axis=0), self.labels.negative.sum(axis=0)
            out = []
            for col, code in enumerate(self.corpus.codes):
                model = self.models.get(code["id"])
                out.append({
                    "code_id": code["id"], "code": code["name"], "positives": int(pos[col]),
                    "negatives": int(neg[col]), "model": model is not None,
                    "weight": round(float(self._weight[col]), 3),
                    "threshold": round(float(self._threshold[col]), 4),
                    "reached": model.reached if model else None,
                    "cv_precision": model.cv_precision if model else None,
                    "cv_recall": model.cv_recall if model else None,
                    "note": self.confidence_note(code["id"]),
                    "group": col in set(self._group_cols.tolist()),
                    "patterns": len(code.get("patterns") or []),
                })
            return out


def _once(evidence: list[Evidence]) -> list[Evidence]:
    """Evidence with each text said once (a word both the model and the prior weigh, or
    found twice in the segment, is shown once)."""
    seen: set[str] = set()
    out = []
    for e in evidence:
        key = e.text.lower()
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _place_terms(store: Store, suggester: Suggester,
                 found: dict[int, list[Suggestion]]) -> None:
    """Fill in where the model's and the prior's words are in each segment's text."""
    from coder.learn.features import term_spans
    from coder.store.learner import iter_segments

    wanted = [seg for seg, items in found.items()
              if any(e.start is None for s in items for e in s.evidence)]
    content = suggester.corpus.featurizer.is_content
    for rows in iter_segments(store, wanted):
        for seg, _, _, text, lemmas, tokens in rows:
            placed = []
            for s in found[seg]:
                evidence = []
                for e in s.evidence:
                    if e.start is not None:
                        evidence.append(e)
                        continue
                    if e.source == "context":
                        evidence.append(e)
                        continue
                    spans = term_spans(lemmas, tokens, e.text, content)
                    start, end = spans[0] if spans else (None, None)
                    evidence.append(Evidence(e.source, text[start:end] if start is not None
                                             else e.text, start, end, e.detail))
                placed.append(Suggestion(s.segment_id, s.code_id, s.code, s.score, s.threshold,
                                         s.sources, tuple(_once(evidence))))
            found[seg] = placed
