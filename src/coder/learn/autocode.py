"""Let the model code segments as a coder of its own, so people can be compared with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coder.errors import CoderError
from coder.learn.suggest import Suggester
from coder.spans import pattern_spans, strip_span
from coder.store.codings import apply_coding, mark_reviewed, remove_coding
from coder.store.db import Store
from coder.store.learner import coder_codings_in, origins_of
from coder.store.spans import code_span, coded_spans, segment_text

DEFAULT_AUTO_CODER = "auto"


@dataclass
class AutocodeResult:
    coder: str  # the machine coder written to
    trained_on: str  # whose work the model learned from
    segments: int
    added: int = 0
    removed: int = 0
    kept: int = 0
    reshaped: int = 0  # kept, but re-coded as other spans (or the whole segment)
    spanned: int = 0  # decisions written as the pattern hits' sentences (``spans``)
    reviewed: int = 0  # segments newly marked reviewed by the machine coder


def autocode(store: Store, suggester: Suggester, segment_ids: Sequence[int], *,
             as_coder: str = DEFAULT_AUTO_CODER,
             min_score: float | None = None, spans: bool = False) -> AutocodeResult:
    """Make ``as_coder``'s codings on the segments exactly the confident suggestions.

    Codings are added with origin ``auto``; earlier ``auto`` codings of ``as_coder`` that
    are no longer confident are removed; every segment is marked reviewed by ``as_coder``
    (its absences are decisions too, which agreement needs). Segments the model trained on
    are scored out-of-fold, so agreement with the trainer is not inflated. Running it
    twice changes nothing; it is one transaction.

    With ``spans`` a decision whose code's patterns matched in the segment is coded as the
    sentence(s) of the matched words (as the workbench's "accept as spans" setting does),
    other decisions as the whole segment.
    """
    as_coder = as_coder.strip()
    if not as_coder:
        raise CoderError("the machine coder needs a name (--as)")
    if as_coder == suggester.coder:
        raise CoderError(f"the model learns from {as_coder!r}: give the machine coder "
                         "another name (--as)")
    human = {o: n for o, n in origins_of(store, as_coder).items() if o != "auto"}
    if human:
        raise CoderError(f"{as_coder!r} has codings of their own ({sum(human.values())}); "
                         "the machine coder must be a name only autocode writes to")
    decided = {(seg, code): _target(store, suggester, seg, code) if spans else []
               for seg, code, _ in suggester.decide(segment_ids, min_score=min_score)}
    result = AutocodeResult(as_coder, suggester.coder, len(set(segment_ids)))
    saved = store.coder
    store.coder = as_coder  # the batch is the machine coder's: `coder undo --coder auto`
    try:
        _store_codings(store, result, decided, segment_ids)
    finally:
        store.coder = saved
    return result


def _target(store: Store, suggester: Suggester, segment: int,
            code: int) -> list[tuple[int, int]]:
    """The spans (segment offsets) a decision is coded as; empty: the whole segment."""
    hits = suggester.pattern_hits(segment, code)
    if not hits:
        return []
    text = segment_text(store, segment)[1]
    return [strip_span(text, a, b) for a, b in pattern_spans(text, hits)]


def _store_codings(store: Store, result: AutocodeResult,
                   decided: dict[tuple[int, int], list[tuple[int, int]]],
                   segment_ids: Sequence[int]) -> None:
    as_coder = result.coder
    with store.transaction("autocode"):
        existing = {(r["segment_id"], r["code_id"]) for r in
                    coder_codings_in(store, as_coder, segment_ids)}
        have = coded_spans(store, as_coder)
        for (seg, code), target in sorted(decided.items()):
            result.spanned += bool(target)
            if (seg, code) in existing:
                if have.get((seg, code), []) == target:
                    result.kept += 1
                    continue
                remove_coding(store, seg, code, coder=as_coder)
                result.reshaped += 1
            else:
                result.added += 1
            if target:
                for start, end in target:
                    code_span(store, seg, code, start, end, coder=as_coder, origin="auto")
            else:
                apply_coding(store, seg, code, coder=as_coder, origin="auto")
        for seg, code in sorted(existing - decided.keys()):
            remove_coding(store, seg, code, coder=as_coder)
            result.removed += 1
        result.reviewed = mark_reviewed(store, sorted(set(segment_ids)), coder=as_coder)
