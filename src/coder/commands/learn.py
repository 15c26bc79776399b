"""Suggestions that learn: `coder suggest`, `coder autocode` and `coder evaluate`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from coder.codings_tables import safe_cell
from coder.commands.base import Context as _Context
from coder.commands.base import print_json as _json
from coder.commands.base import study_options
from coder.commands.base import table as _table


def _learn_options(func: Callable) -> Callable:
    """Options every learning command shares."""
    func = click.option("--precision", "--target-precision", "target_precision",
                        type=click.FloatRange(0.05, 0.99), default=0.7, show_default=True,
                        help="Precision a code's suggestions must reach (in cross-validation "
                             "on your codings) to count as confident: higher is surer and "
                             "finds fewer.")(func)
    func = click.option("--include-interviewers", is_flag=True,
                        help="Suggest codes on the turns of interviewers, hosts, facilitators "
                             "and moderators too (speakers.csv role); by default their turns "
                             "are only context for the answers.")(func)
    return func


def _settings(ctx: _Context, target_precision: float, include_interviewers: bool = False):
    from coder.learn.model import LearnSettings

    return LearnSettings(target_precision=target_precision,
                         nlp_model=ctx.study.settings.nlp_model,
                         include_interviewers=include_interviewers)


def _suggester(ctx: _Context, coder: str, target_precision: float,
               include_interviewers: bool = False):
    from coder.learn.suggest import Suggester

    return Suggester.load(ctx.store(), coder,
                          _settings(ctx, target_precision, include_interviewers))


def _score(value: float) -> str:
    return f"{value:.2f}"


def register(group: click.Group) -> None:
    """Add `suggest`, `autocode` and `evaluate` to the command group."""
    group.add_command(suggest)
    group.add_command(autocode)
    group.add_command(evaluate)


@click.command()
@click.option("--transcript", "transcripts", multiple=True, metavar="NAME",
              help="Only this transcript (repeat for more; default: all).")
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True,
              help="At most this many suggestions per segment.")
@click.option("--min-score", type=click.FloatRange(0, 1),
              help="Only suggestions scoring at least this (default: each code's confident "
                   "threshold).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@_learn_options
@study_options
def suggest(ctx: _Context, transcripts: tuple[str, ...], top: int, min_score: float | None,
            fmt: str, target_precision: float, include_interviewers: bool) -> None:
    """Suggest codes for the segments you have not reviewed, best first, with the evidence.

    Scores blend codebook patterns (rule), what the codebook says about each code (prior)
    and a model trained on your codings, reviewed segments and rejected suggestions.
    """
    from coder.store.learner import segment_places, unreviewed_segment_ids

    store = ctx.store()
    ids = unreviewed_segment_ids(store, ctx.coder, list(transcripts))
    suggester = _suggester(ctx, ctx.coder, target_precision, include_interviewers)
    found = suggester.suggest(ids, top=top, min_score=min_score, store=store)
    places = segment_places(store, found)
    rows = []
    for seg, items in found.items():
        transcript, ordinal = places[seg]
        for item in items:
            rows.append({"transcript": transcript, "segment": ordinal, "code": item.code,
                         "score": item.score, "threshold": item.threshold,
                         "sources": list(item.sources),
                         "evidence": [e.to_json() for e in item.evidence]})
    rows.sort(key=lambda r: (r["transcript"], r["segment"], -r["score"]))
    if fmt == "json":
        return _json(rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["transcript", "segment", "code", "score", "threshold", "sources",
                         "evidence"])
        for r in rows:
            writer.writerow([safe_cell(r["transcript"]), r["segment"], safe_cell(r["code"]),
                             r["score"], r["threshold"], "+".join(r["sources"]),
                             safe_cell(_evidence_text(r["evidence"]))])
        click.echo(buffer.getvalue(), nl=False)
        return
    if not rows:
        floor = f"{min_score:.2f}" if min_score is not None else "each code's threshold"
        click.echo(f"No suggestions scoring at least {floor} for the {len(ids)} segments "
                   f"{ctx.coder} has not reviewed.")
    else:
        _table(f"Suggestions for {ctx.coder} ({len(found)} of {len(ids)} unreviewed segments)",
               ["transcript", "segment", "code", "score", "sources", "evidence"],
               [[r["transcript"], r["segment"], r["code"], _score(r["score"]),
                 "+".join(r["sources"]), _evidence_text(r["evidence"])] for r in rows])
    _suggest_notes(store, suggester, min_score is None)


def _coder_name(suggester) -> str:
    return suggester.coder or "the coder"


def _suggest_notes(store, suggester, confident_only: bool) -> None:
    """What the table leaves out, and why: codes not confident yet, interviewers' turns."""
    from coder.store.learner import speaker_question_counts

    if confident_only:
        groups: dict[str, list[str]] = {}
        for c in suggester.code_stats():
            if c["note"] and not c["group"]:
                count, why = c["note"].split("; ", 1)
                groups.setdefault(why, []).append(f"{c['code']} ({count.split()[0]})")
        if suggester.labels.positive.sum() == 0 and groups:
            click.echo(f"Not confident yet: {_coder_name(suggester)} has coded nothing, so "
                       "only codebook patterns can be; --min-score 0 ranks every code.")
            groups = {}
        for why, codes in groups.items():
            click.echo(f"Not confident yet, {why} (examples in brackets; ranked with "
                       f"--min-score 0): {', '.join(codes)}")
    left_out = suggester.left_out()
    if left_out:
        click.echo(f"Left out: {left_out} interviewer/host/moderator turns (speakers.csv "
                   "role); --include-interviewers codes them too.")
        return
    counts = speaker_question_counts(store)
    if counts and not any(c["interviewer"] for c in counts):
        top = max(counts, key=lambda c: c["asks"])
        if top["asks"] >= 3 and top["asks"] >= 0.3 * top["turns"]:
            click.echo(f"No speaker has the role interviewer: {top['speaker']} asks the most "
                       f"questions ({top['asks']} of {top['turns']} turns). To leave their "
                       f"turns out, add `{top['speaker']},interviewer` to "
                       "transcripts/speakers.csv (speaker,role) and run `coder sync`.")


def _evidence_text(evidence: list[dict[str, Any]]) -> str:
    seen: list[str] = []
    for e in evidence:
        text = f"“{e['text']}”" if e["source"] == "rule" else e["text"]
        if text not in seen:
            seen.append(text)
    return " | ".join(seen)


@click.command()
@click.option("--transcript", "transcripts", multiple=True, metavar="NAME",
              help="Only this transcript (repeat for more; default: all).")
@click.option("--min-score", type=click.FloatRange(0, 1),
              help="Apply codes scoring at least this (default: each code's confident "
                   "threshold).")
@click.option("--as", "as_coder", default="auto", show_default=True, metavar="NAME",
              help="The machine coder's name (its codings have origin 'auto').")
@click.option("--spans", is_flag=True,
              help="Code a codebook pattern hit as the sentence(s) of the matched words, "
                   "not the whole segment (other decisions stay whole-segment).")
@_learn_options
@study_options
def autocode(ctx: _Context, transcripts: tuple[str, ...], min_score: float | None,
             as_coder: str, spans: bool, target_precision: float,
             include_interviewers: bool) -> None:
    """Let the model code every segment as a separate coder, to compare with people.

    The model learns from --coder's work (default: you) and writes confident codes under
    --as; segments it learned from are decided out-of-fold. Running it again brings the
    machine coder up to date (adds and removes its codings); it never touches anyone else's.
    """
    from coder.learn.autocode import autocode as run
    from coder.store.learner import transcript_segment_ids

    store = ctx.store("autocode")
    ids = transcript_segment_ids(store, list(transcripts))
    result = run(store, _suggester(ctx, ctx.coder, target_precision, include_interviewers),
                 ids, as_coder=as_coder, min_score=min_score, spans=spans)
    scope = ", ".join(transcripts) if transcripts else "all transcripts"
    reshaped = f", {result.reshaped} re-coded" if result.reshaped else ""
    spanned = (f"; {result.spanned} coded as the sentences their patterns matched in"
               if spans else "")
    click.echo(f"{result.coder}: {result.added} codings added, {result.removed} removed, "
               f"{result.kept} kept{reshaped} on {result.segments} segments ({scope}); "
               f"model of {result.trained_on}{spanned}")


@click.command()
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Cross-validation folds.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the PNG plot here (default: exports/evaluate-CODER.png).")
@click.option("--no-plot", is_flag=True, help="Do not write the plot.")
@click.option("--hold-out", "hold_out", metavar="TRANSCRIPT",
              help="Test on this transcript's reviewed segments after training on everything "
                   "else (how the suggestions do on a new conversation) instead of "
                   "cross-validating.")
@_learn_options
@study_options
def evaluate(ctx: _Context, folds: int, fmt: str, plot_path: Path | None, no_plot: bool,
             hold_out: str | None, target_precision: float, include_interviewers: bool) -> None:
    """How good are the suggestions? Cross-validated against --coder's reviewed segments.

    Per code: precision, recall, F1 and Cohen's kappa of the confident suggestions against
    the coder, with support; micro and macro averages; the top-3 hit rate; and F1 after
    training on 10, 25, 50 and 100 % of the coded segments (also drawn in a PNG).
    """
    from coder.learn.corpus import Corpus
    from coder.learn.evaluate import evaluate as run
    from coder.learn.evaluate import plot
    from coder.learn.labels import Labels
    from coder.store.transcripts import get_transcript

    store = ctx.store()
    settings = _settings(ctx, target_precision, include_interviewers)
    held = None
    if hold_out is not None:
        row = get_transcript(store, hold_out)
        held = (int(row["id"]), str(row["name"]))
    corpus = Corpus.build(store, settings.nlp_model, settings.prior_max)
    labels = Labels.read(store, ctx.coder, corpus)
    result = run(corpus, labels, ctx.coder, folds=folds, settings=settings, hold_out=held)
    written = None
    if not no_plot:
        target = plot_path or ctx.study.exports_dir / f"evaluate-{_file_part(ctx.coder)}.png"
        written = plot(result, target)
    if fmt == "json":
        return _json({**result.to_json(), "plot": str(written) if written else None})
    protocol = (f"held-out transcript {result.hold_out}, trained on the others"
                if result.hold_out else f"{result.folds}-fold cross-validation")
    _table(f"Suggestions against {result.coder}: {protocol} on "
           f"{result.segments} reviewed segments ({result.coded_segments} with codes)",
           ["code", "support", "predicted", "precision", "recall", "F1", "kappa", "CV P",
            "confident?"],
           [[c.code, c.support, c.predicted, _num(c.precision), _num(c.recall), _num(c.f1),
             _num(c.kappa), _num(c.cv_precision), c.note or "yes"] for c in result.codes]
           + [["micro average", sum(c.support for c in result.codes),
               sum(c.predicted for c in result.codes), _num(result.micro["precision"]),
               _num(result.micro["recall"]), _num(result.micro["f1"]),
               _num(result.micro["kappa"]), "", ""],
              ["macro average", "", "", _num(result.macro["precision"]),
               _num(result.macro["recall"]), _num(result.macro["f1"]),
               _num(result.macro["kappa"]), "", ""]])
    click.echo("CV P: each code's own cross-validated precision at its confident threshold "
               "(what `suggest`, `s` and `autocode` use); --precision sets the target.")
    click.echo(f"Top-3 hit rate: {_num(result.top3_hit_rate)}  ·  accuracy "
               f"{_num(result.accuracy)} (never coding: {_num(result.majority_accuracy)})  ·  "
               f"confident at precision ≥ {result.target_precision:.2f}")
    click.echo("Learning curve (micro / macro F1 by segments trained on): " + ", ".join(
        f"{p['training_segments']} → {_num(p['micro_f1'])} / {_num(p['macro_f1'])}"
        for p in result.learning_curve))
    if written:
        click.echo(f"Plot: {written}")


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _file_part(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "coder"
