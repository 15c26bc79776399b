"""How good are the suggestions? Cross-validation against one coder's reviewed segments.

The coder's reviewed segments are split into folds. For each fold, a suggester is trained
on everything else the coder did (other reviewed segments, codings on unreviewed ones,
rejections) exactly as in the workbench, thresholds included, and decides the held-out
segments: a code is present when its score reaches the code's confident threshold.
Decisions are compared with the coder's codes per code (precision, recall, F1, Cohen's
kappa), pooled over codes (micro) and averaged (macro). The top-3 hit rate is the share
of held-out segments with codes whose three best-scored codes include one of them. The
learning curve repeats this with 10, 25 and 50 % of the training segments.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coder.errors import CoderError
from coder.files import write_figure
from coder.learn.corpus import Corpus
from coder.learn.labels import Labels
from coder.learn.model import LearnSettings
from coder.learn.suggest import Suggester

MIN_CODED_SEGMENTS = 20
CURVE = (0.1, 0.25, 0.5, 1.0)


@dataclass
class CodeScore:
    code: str
    support: int  # held-out segments the coder gave the code
    predicted: int  # held-out segments the model gave it
    true_positives: int
    precision: float | None
    recall: float | None
    f1: float | None
    kappa: float | None
    cv_precision: float | None = None  # the code's own cross-validated precision at its
    # confident threshold, trained on all the coder's work (what the workbench uses)
    note: str = ""  # why it is not confident, if it is not


@dataclass
class Evaluation:
    coder: str
    folds: int
    segments: int  # reviewed segments evaluated
    coded_segments: int  # of which with at least one code
    target_precision: float
    codes: list[CodeScore]
    micro: dict[str, float | None]
    macro: dict[str, float | None]
    top3_hit_rate: float | None
    accuracy: float  # share of (segment, code) decisions that match the coder
    majority_accuracy: float  # the same for "never the code" (each code's majority class)
    learning_curve: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    hold_out: str = ""  # the held-out transcript ("" for cross-validation)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(corpus: Corpus, labels: Labels, coder: str, *, folds: int = 5,
             settings: LearnSettings | None = None,
             curve: Sequence[float] = CURVE, hold_out: tuple[int, str] | None = None
             ) -> Evaluation:
    """Cross-validate the suggester against ``coder``'s ``labels`` (see the module doc).

    With ``hold_out`` (a transcript's id and name) the protocol is a new conversation's:
    train on everything the coder did elsewhere, test on that transcript's reviewed
    segments (one fold)."""
    started = time.perf_counter()
    settings = settings or LearnSettings()
    units = np.flatnonzero(labels.reviewed)
    if hold_out is not None:
        units = units[corpus.transcript[units] == hold_out[0]]
        if not len(units):
            raise CoderError(f"{coder!r} has reviewed no segment of {hold_out[1]!r}: "
                             "nothing to test the suggestions on")
    coded_units = int(labels.coded[units].any(axis=1).sum())
    if coded_units < MIN_CODED_SEGMENTS:
        raise CoderError(
            f"{coder!r} has {coded_units} reviewed segment(s) with codes; evaluating needs at "
            f"least {MIN_CODED_SEGMENTS} (code segments and mark them reviewed: `coder "
            "review`, or move on in the workbench)")
    if folds < 2:
        raise CoderError("evaluation needs at least 2 folds")
    folds = 1 if hold_out is not None else min(folds, len(units))
    rng = np.random.default_rng(settings.seed)
    fold_of = np.empty(len(units), dtype=np.int64)
    fold_of[rng.permutation(len(units))] = np.arange(len(units)) % folds
    if hold_out is not None:
        elsewhere = corpus.transcript != hold_out[0]
        if not (labels.coded & elsewhere[:, None]).any():
            raise CoderError(f"{coder!r} has coded nothing outside {hold_out[1]!r}: "
                             "nothing to train on")
    truth = labels.coded[units]
    predicted = {p: np.zeros_like(truth) for p in curve}
    top3 = np.zeros(len(units), dtype=bool)
    train_sizes = {p: 0 for p in curve}
    for fold in range(folds):
        test = units[fold_of == fold]
        held = np.zeros(len(corpus), dtype=bool)
        held[test] = True
        if hold_out is not None:  # nothing of the held-out transcript trains the model
            held |= corpus.transcript == hold_out[0]
        training = labels.subset(~held)
        pool = training.labelled_rows()
        for fraction in curve:
            keep = pool if fraction >= 1 else np.sort(
                rng.choice(pool, size=max(1, int(round(fraction * len(pool)))), replace=False))
            mask = np.zeros(len(corpus), dtype=bool)
            mask[keep] = True
            suggester = Suggester.from_corpus(corpus, training.subset(mask), coder, settings)
            _, scores = suggester.scores(corpus.ids[test], honest=False)
            predicted[fraction][fold_of == fold] = suggester.confident(scores)
            train_sizes[fraction] += len(keep)
            if fraction >= 1:
                best3 = np.argsort(-scores, axis=1)[:, :3]
                top3[fold_of == fold] = np.take_along_axis(
                    truth[fold_of == fold], best3, axis=1).any(axis=1)
    final = predicted[max(curve)]
    codes = [_score(c["name"], truth[:, n], final[:, n]) for n, c in enumerate(corpus.codes)]
    trained = labels if hold_out is None else labels.subset(corpus.transcript != hold_out[0])
    everything = Suggester.from_corpus(corpus, trained, coder, settings)
    for code, stats in zip(codes, everything.code_stats(), strict=True):
        code.cv_precision, code.note = stats["cv_precision"], stats["note"]
    has_codes = truth.any(axis=1)
    majority = np.where(truth.mean(axis=0) > 0.5, 1, 0)
    evaluation = Evaluation(
        coder=coder, folds=folds, segments=len(units), coded_segments=coded_units,
        target_precision=settings.target_precision, codes=codes,
        micro=_micro(truth, final), macro=_macro(codes),
        top3_hit_rate=round(float(top3[has_codes].mean()), 4) if has_codes.any() else None,
        accuracy=round(float((final == truth).mean()), 4),
        majority_accuracy=round(float((truth == majority.astype(bool)).mean()), 4))
    for fraction in curve:
        micro = _micro(truth, predicted[fraction])
        macro = _macro([_score("", truth[:, n], predicted[fraction][:, n])
                        for n in range(truth.shape[1])])
        evaluation.learning_curve.append({
            "fraction": fraction, "training_segments": round(train_sizes[fraction] / folds),
            "micro_f1": micro["f1"], "macro_f1": macro["f1"]})
    evaluation.seconds = round(time.perf_counter() - started, 2)
    evaluation.hold_out = hold_out[1] if hold_out else ""
    return evaluation


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def _kappa(truth: np.ndarray, pred: np.ndarray) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(np.unique(np.concatenate([truth, pred]))) < 2:
        return None  # one value everywhere: kappa is undefined
    return round(float(cohen_kappa_score(truth, pred)), 4)


def _score(name: str, truth: np.ndarray, pred: np.ndarray) -> CodeScore:
    tp = int((truth & pred).sum())
    precision, recall = _ratio(tp, int(pred.sum())), _ratio(tp, int(truth.sum()))
    return CodeScore(name, int(truth.sum()), int(pred.sum()), tp, precision, recall,
                     _f1(precision, recall), _kappa(truth, pred))


def _micro(truth: np.ndarray, pred: np.ndarray) -> dict[str, float | None]:
    tp = int((truth & pred).sum())
    precision, recall = _ratio(tp, int(pred.sum())), _ratio(tp, int(truth.sum()))
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "kappa": _kappa(truth.ravel(), pred.ravel())}


def _macro(codes: list[CodeScore]) -> dict[str, float | None]:
    """Means over the codes the coder used (a code never predicted has precision 0)."""
    used = [c for c in codes if c.support]
    if not used:
        return {"precision": None, "recall": None, "f1": None, "kappa": None}

    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(float(np.mean(known)), 4) if known else None

    return {"precision": mean([c.precision or 0.0 for c in used]),
            "recall": mean([c.recall for c in used]),
            "f1": mean([c.f1 or 0.0 for c in used]),
            "kappa": mean([c.kappa for c in used])}


def plot(evaluation: Evaluation, path: Path) -> Path:
    """A PNG: the learning curve, and F1 per code."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    used = sorted((c for c in evaluation.codes if c.support), key=lambda c: c.f1 or 0.0)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, max(4.0, 0.28 * len(used) + 1.5)),
        gridspec_kw={"width_ratios": [1, 1.3]})
    plt.rcParams.update({"font.size": 11})
    curve = evaluation.learning_curve
    xs = [p["training_segments"] for p in curve]
    for key, label in (("micro_f1", "micro F1"), ("macro_f1", "macro F1")):
        left.plot(xs, [p[key] if p[key] is not None else np.nan for p in curve], marker="o",
                  label=label)
    left.set_xlabel("segments trained on (reviewed or coded)")
    left.set_ylabel("F1 of confident suggestions, held-out segments")
    left.set_ylim(0, 1)
    left.set_xlim(0, max(xs + [1]) * 1.05)
    left.grid(alpha=0.3)
    left.legend()
    protocol = (f"held out: {evaluation.hold_out}" if evaluation.hold_out
                else f"{evaluation.folds}-fold cross-validation")
    left.set_title(f"Learning curve ({evaluation.coder}, {protocol})")
    bars = right.barh([f"{c.code} (n={c.support})" for c in used],
                      [c.f1 or 0.0 for c in used], color="#4e9ad6")
    right.bar_label(bars, labels=[f"{c.f1:.2f}" if c.f1 is not None else "n/a" for c in used],
                    padding=3, fontsize=9)
    right.set_xlim(0, 1)
    right.set_xlabel("F1")
    right.set_title(f"F1 per code (micro {evaluation.micro['f1'] or 0:.2f}, "
                    f"top-3 hit rate {evaluation.top3_hit_rate or 0:.2f})")
    right.tick_params(axis="y", labelsize=9)
    fig.tight_layout()
    try:
        write_figure(path, fig, dpi=110)
    finally:
        plt.close(fig)
    return path
