"""One code's model, and how rules, the codebook prior and the model blend into a score.

Per code, a logistic regression (scikit-learn, liblinear) is trained on the coder's
positives and negatives. Its features are the segment's word 1-2 gram TF-IDF plus two
*stacked* ones for this code: whether a codebook pattern hits the segment, and the
segment's codebook prior. So the model learns from the coder's own decisions how far to
trust the codebook for this code, next to the words it learns.

Beside it, a :class:`Similarity`: the cosine of the segment's context features (its
words plus a little of its neighbours' and of the question it follows) with the code's
centroid (the coder's examples plus the codebook text as ``profile_examples`` examples),
smoothed over the neighbouring turns. Three-fold cross-validation (two-fold for codes
with over ``large_code`` training rows, which halves their cost) gives every training
segment an out-of-fold decision value and similarity: Platt scaling on both (a stacked
logistic regression of two columns) turns them into calibrated probabilities, and the
code's
*confident* threshold is the lowest blended score whose out-of-fold precision reaches the
target (1 when none does), pulled toward ``fallback_threshold`` by the model's weight
``w`` (below), as a threshold cross-validated on a handful of examples is a guess. The
final model is the average of the fold models (no fourth fit). Large codes
train on all their positives and a weighted sample of negatives (at most ``max_rows``
rows), which keeps a code's fit under ~0.25 s on the benchmark machine.

The blended score of a segment for a code is ``w * model + (1 - w) * max(model,
codebook)`` where ``w = positives / (positives + model_half)`` and ``codebook`` is the
rule score for a code with a model (its centroid holds the codebook's text already) and
``max(rule, prior)`` without one: without a model the codebook decides; with few examples
the patterns lift the model toward their score, and the model takes over as examples
come in. The codebook
never lowers the model's probability: its silence about a segment is no evidence. A rule
hit scores its pattern's reliability, a Beta-smoothed precision ``(hits coded + s *
rule_score) / (hits judged + s)``, so a pattern that the coder keeps rejecting fades.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coder.learn.context import Context


@dataclass(frozen=True)
class LearnSettings:
    """Knobs of the learner; the defaults are what the CLI and the workbench use."""

    target_precision: float = 0.7  # a code's suggestions are confident at this precision
    seed: int = 0
    folds: int = 3  # inner cross-validation (thresholds, calibration)
    large_code: int = 2500  # training rows above which a code uses 2 folds (half the time)
    C: float = 16.0  # inverse regularisation of the logistic regressions
    max_rows: int = 3000  # training rows per code; negatives beyond are sampled and weighted
    min_positives: int = 3  # a code needs this many positives (and negatives) for a model
    min_negatives: int = 3
    model_half: float = 10.0  # positives at which the model gets half the weight
    rule_score: float = 0.7  # score of a rule hit nobody has judged yet
    rule_strength: float = 4.0  # pseudo-count of rule_score in a pattern's reliability
    prior_max: float = 0.45  # the codebook prior's largest score
    fallback_threshold: float = 0.5  # confident threshold of a code without a model
    min_confident: int = 3  # positives above a threshold needed to trust its precision
    nlp_model: str = ""  # the study's spaCy pipeline (for lemmatizing patterns)
    profile_examples: float = 3.0  # the codebook text counts as this many examples
    include_interviewers: bool = False  # suggest codes on interviewers' turns too


@dataclass
class CodeModel:
    """A trained code: weights, calibration, threshold and what it was trained on."""

    code_id: int
    coef: np.ndarray  # float32, one weight per TF-IDF feature
    rule_coef: float  # weight of "a pattern of this code hits the segment"
    prior_coef: float  # weight of the codebook prior (scaled to 0-1)
    intercept: float
    platt: tuple[float, float]  # probability = sigmoid(a * decision + c * similarity + b)
    threshold: float
    reached: bool  # whether the target precision was reached (else threshold = 1)
    positives: int
    negatives: int
    weight: float  # the model's share of the blended score
    oof_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    oof_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    seconds: float = 0.0
    centroid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    centroid_coef: float = 0.0  # c above: weight of the similarity to the centroid
    cv_precision: float | None = None  # out-of-fold precision at the threshold
    cv_recall: float | None = None


def model_weight(positives: int, settings: LearnSettings) -> float:
    return positives / (positives + settings.model_half) if positives else 0.0


def blend(model: np.ndarray, codebook: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    """``w * model + (1 - w) * max(model, codebook)``: the codebook lifts the model's
    probability toward its own score, the more the fewer examples the model has; it never
    pulls a confident model down (a code the codebook says nothing about is not evidence
    against it)."""
    return weight * model + (1 - weight) * np.maximum(model, codebook)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def fit_code(X: sp.csr_matrix, code_id: int, positives: np.ndarray, negatives: np.ndarray,
             hit: np.ndarray, prior: np.ndarray, rule: np.ndarray,
             settings: LearnSettings, similarity: Similarity | None = None) -> CodeModel | None:
    """Train one code on rows ``positives`` and ``negatives`` of ``X``.

    ``hit`` (0/1), ``prior`` (0-1) and ``rule`` (a hit's reliability) are this code's
    columns for every row of ``X``: the first two are stacked features, and ``rule`` and
    ``prior`` make the codebook part of the out-of-fold blended scores the threshold is
    chosen on. Returns None when there are too few examples for a model.
    """
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    n_pos, n_neg = len(positives), len(negatives)
    if n_pos < settings.min_positives or n_neg < settings.min_negatives:
        return None
    rng = np.random.default_rng([settings.seed, code_id])
    keep_pos = _sample(positives, settings.max_rows // 2, rng)
    keep_neg = _sample(negatives, max(settings.max_rows - len(keep_pos), 1), rng)
    rows = np.concatenate([keep_pos, keep_neg])
    y = np.concatenate([np.ones(len(keep_pos), dtype=np.int8),
                        np.zeros(len(keep_neg), dtype=np.int8)])
    weights = np.concatenate([np.full(len(keep_pos), n_pos / len(keep_pos)),
                              np.full(len(keep_neg), n_neg / len(keep_neg))])
    order = np.argsort(rows, kind="stable")
    rows, y, weights = rows[order], y[order], weights[order]
    stacked = sp.csr_matrix(np.column_stack([hit[rows], prior[rows]]).astype(np.float64))
    Xc = sp.hstack([X[rows].astype(np.float64), stacked], format="csr")
    k = settings.folds if len(rows) <= settings.large_code else min(settings.folds, 2)
    folds = _folds(y, min(k, len(keep_pos), len(keep_neg)), rng)
    decision = np.zeros(len(rows))
    coefs, intercepts = [], []
    for fold in range(folds.max() + 1):
        train = folds != fold if folds.max() else np.ones(len(y), dtype=bool)
        model = LogisticRegression(C=settings.C, solver="liblinear", dual=True, tol=1e-3,
                                   random_state=settings.seed, max_iter=200)
        model.fit(Xc[train], y[train], sample_weight=weights[train])
        test = ~train if folds.max() else train  # one fold: in-sample (optimistic)
        decision[test] = model.decision_function(Xc[test])
        coefs.append(model.coef_[0])
        intercepts.append(model.intercept_[0])
    columns = [decision]
    centroid = np.zeros(0, dtype=np.float32)
    if similarity is not None:
        near = np.zeros(len(rows))
        for fold in range(folds.max() + 1):
            train = folds != fold if folds.max() else np.ones(len(y), dtype=bool)
            test = ~train if folds.max() else train
            near[test] = similarity.scores(rows[train][y[train] == 1], rows[test])
        columns.append(near)
        centroid = similarity.centroid(positives)
    theta = _platt(np.column_stack(columns), y, weights)
    if len(columns) > 1 and theta[1] <= 0:  # the similarity adds nothing for this code
        columns = columns[:1]
        theta = _platt(decision, y, weights)
    platt = (float(theta[0]), float(theta[-1]))
    centroid_coef = float(theta[1]) if len(columns) > 1 else 0.0
    weight = model_weight(n_pos, settings)
    # The similarity already holds the codebook's text: the prior then lifts nothing.
    codebook = rule[rows] if similarity is not None else np.maximum(rule[rows],
                                                           prior[rows] * settings.prior_max)
    linear = platt[0] * decision + platt[1] + (centroid_coef * columns[1] if len(columns) > 1
                                                else 0.0)
    blended = blend(sigmoid(linear), codebook, weight)
    threshold, reached = choose_threshold(blended, y, weights, settings)
    cv_p, cv_r = _precision_recall(blended, y, weights, threshold) if reached else (None, None)
    # Few examples make a cross-validated threshold a guess: lean on the fallback as the
    # blend leans on the codebook, by the same weight.
    threshold = weight * threshold + (1 - weight) * settings.fallback_threshold
    coef = np.mean(coefs, axis=0)
    return CodeModel(code_id, coef[:-2].astype(np.float32), float(coef[-2]), float(coef[-1]),
                     float(np.mean(intercepts)), platt, threshold, reached, n_pos, n_neg,
                     weight, rows, blended.astype(np.float32),
                     time.perf_counter() - started, centroid, centroid_coef, cv_p, cv_r)


class Similarity:
    """One code's examples-and-codebook centroid (Rocchio): the sum of the coder's
    positive rows of the context features plus ``profile_examples`` times the code's
    codebook profile; a row's score is its cosine with it, smoothed over its neighbours.
    On a new conversation with ~120 coded turns this ranks codes better than the
    logistic regression alone (top-3 hit rate 0.80 against 0.72 on ``../shared/eval``);
    the stacking below learns, per code, how far to trust each."""

    def __init__(self, Xc: sp.csr_matrix, profile: np.ndarray, context: Context,
                 profile_examples: float):
        self.Xc, self.profile, self.context = Xc, profile, context
        self.profile_examples = profile_examples

    def centroid(self, positives: np.ndarray) -> np.ndarray:
        total = np.asarray(self.Xc[positives].sum(axis=0)).ravel() if len(positives) else \
            np.zeros(self.Xc.shape[1])
        total = total + self.profile_examples * self.profile
        norm = np.linalg.norm(total)
        return (total / norm if norm else total).astype(np.float32)

    def scores(self, positives: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``rows``' smoothed similarity to the centroid of ``positives`` (only they and
        their neighbours are scored: an update stays fast in a large study)."""
        return smoothed_similarity(self.Xc, self.centroid(positives)[:, None], self.context,
                                   rows)[:, 0]


def smoothed_similarity(Xc: sp.csr_matrix, centroids: np.ndarray, context: Context,
                        rows: np.ndarray) -> np.ndarray:
    """``rows`` x codes: cosine with each centroid, smoothed over the neighbouring turns."""
    if len(rows) == Xc.shape[0]:
        return context.smooth(np.asarray(Xc @ centroids), np.arange(len(rows)))[rows]
    near = context.neighbour_rows(rows)
    raw = np.asarray(Xc[near] @ centroids)
    where = np.full(Xc.shape[0], -1, dtype=np.int64)
    where[near] = np.arange(len(near))
    around = []
    for side in (context.prev[rows], context.next[rows]):
        at = where[np.clip(side, 0, None)]
        around.append(np.where((side >= 0)[:, None], raw[np.clip(at, 0, None)], 0))
    return context.smooth(raw[where[rows]], rows, (around[0], around[1]))


def _precision_recall(scores: np.ndarray, y: np.ndarray, weights: np.ndarray,
                      threshold: float) -> tuple[float | None, float | None]:
    """Weighted precision and recall of ``scores >= threshold``."""
    above, pos = scores >= threshold, y == 1
    tp, fp = weights[above & pos].sum(), weights[above & ~pos].sum()
    total = weights[pos].sum()
    return (round(float(tp / (tp + fp)), 3) if tp + fp else None,
            round(float(tp / total), 3) if total else None)


def _sample(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, size=limit, replace=False))


def _folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Stratified fold numbers (0..k-1); one fold of everything when k < 2."""
    folds = np.zeros(len(y), dtype=np.int64)
    if k < 2:
        return folds
    for label in (0, 1):
        where = np.flatnonzero(y == label)
        folds[rng.permutation(where)] = np.arange(len(where)) % k
    return folds


def _platt(columns: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sigmoid calibration (and stacking) of out-of-fold values: weighted logistic
    regression of the labels on the columns (Newton steps, a little ridge), Platt's
    targets. Returns one weight per column and the intercept last. Hand-written: the
    scikit-learn equivalent (CalibratedClassifierCV) refits the model per fold, and
    this runs on every update."""
    columns = columns.reshape(len(y), -1)
    k = columns.shape[1]
    fallback = np.array([1.0] + [0.0] * k)
    if len(np.unique(y)) < 2 or np.ptp(columns[:, 0]) == 0:
        return fallback
    # Platt (1999): targets slightly inside 0 and 1 keep the fit finite on separable data.
    n_pos, n_neg = weights[y == 1].sum(), weights[y == 0].sum()
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    A = np.column_stack([columns, np.ones(len(y))])
    theta = fallback.copy()
    for _ in range(50):
        p = sigmoid(A @ theta)
        gradient = A.T @ (weights * (p - target)) + 1e-3 * theta
        hessian = (A * (weights * p * (1 - p))[:, None]).T @ A + 1e-3 * np.eye(k + 1)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-6:
            break
    ok = np.isfinite(theta).all() and (theta[:k] >= 0).all() and (theta[:k] > 0).any()
    return theta if ok else fallback


def choose_threshold(scores: np.ndarray, y: np.ndarray, weights: np.ndarray,
                     settings: LearnSettings) -> tuple[float, bool]:
    """The lowest score at which the (weighted, smoothed) precision of everything scored
    at least as high reaches the target, with at least ``min_confident`` positives above;
    ``(1.0, False)`` when no score does."""
    order = np.argsort(-scores, kind="stable")
    s, pos = scores[order], y[order] == 1
    tp = np.cumsum(np.where(pos, weights[order], 0.0))
    fp = np.cumsum(np.where(pos, 0.0, weights[order]))
    hits = np.cumsum(pos)
    last_of_tie = np.ones(len(s), dtype=bool)
    last_of_tie[:-1] = s[:-1] != s[1:]
    precision = tp / (tp + fp + 1.0)
    ok = last_of_tie & (precision >= settings.target_precision) & (
        hits >= settings.min_confident)
    if not ok.any():
        return 1.0, False
    i = int(np.flatnonzero(ok)[-1])
    threshold = (s[i] + s[i + 1]) / 2 if i + 1 < len(s) else s[i]
    return float(min(max(threshold, 0.05), 1.0)), True


def rule_reliability(hit_rows: np.ndarray, hit_cols: np.ndarray, hit_pats: np.ndarray,
                     positive: np.ndarray, negative: np.ndarray,
                     settings: LearnSettings) -> np.ndarray:
    """Each hit's score: its pattern's smoothed precision on the rows the coder judged."""
    if not len(hit_rows):
        return np.zeros(0, dtype=np.float32)
    key = hit_cols * 10_000 + hit_pats
    keys, which = np.unique(key, return_inverse=True)
    coded = np.bincount(which, weights=positive[hit_rows, hit_cols], minlength=len(keys))
    judged = coded + np.bincount(which, weights=negative[hit_rows, hit_cols],
                                 minlength=len(keys))
    strength = settings.rule_strength
    score = (coded + strength * settings.rule_score) / (judged + strength)
    return score[which].astype(np.float32)


def rule_matrix(n_rows: int, n_cols: int, hit_rows: np.ndarray, hit_cols: np.ndarray,
                hit_scores: np.ndarray) -> np.ndarray:
    """The best hit score per row and code (0 where no pattern hits)."""
    out = np.zeros((n_rows, n_cols), dtype=np.float32)
    if len(hit_rows):
        np.maximum.at(out, (hit_rows, hit_cols), hit_scores)
    return out
