"""Reconciliation: walk through disagreements and settle the consensus coding.

The consensus is an ordinary coder (``consensus`` unless configured) whose codings carry
origin ``consensus``. A segment is *decided* once the consensus coder has reviewed it;
every decision leaves a row in the trail (:mod:`coder.store.consensus`). The workbench's
reconciliation screen and ``coder reconcile`` both call the functions here:

* :func:`list_disagreements` — segments where the compared coders differ, each with every
  coder's codes and memo and the consensus so far;
* :func:`proposal` — the codes for a choice: take one coder's, ``both`` (everyone's),
  ``none`` (only what every coder agreed on);
* :func:`decide` — set the consensus codes of one segment, with a note;
* :func:`auto_agree` — copy unanimous codings to the consensus;
* :func:`progress` — how many disagreements are decided and how many remain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coder.errors import CoderError
from coder.store.db import Store
from coder.store.memos import segment_memo_text

if TYPE_CHECKING:
    import numpy as np

    from coder.agreement.units import Units

CONSENSUS = "consensus"
UNION = ("both", "all")  # take every code any coder gave
AGREED = "none"  # take none of the disputed codes: only those every coder gave


@dataclass
class CoderWork:
    """One coder's work on a segment."""

    coder: str
    reviewed: bool  # whether these codes count (reviewed, or --all-segments)
    codes: list[int]  # code ids the coder gave, in codebook order
    memo: str | None = None
    # the coder's span codings here: (code id, start, end) in the segment's text; at
    # segment level a span counts as giving the code (it is in ``codes``)
    spans: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass
class Disagreement:
    """A segment on which the compared coders differ."""

    segment_id: int
    transcript: str
    ordinal: int
    speaker: str | None
    text: str
    coders: dict[str, CoderWork]  # in the order compared
    agreed: list[int]  # codes every coder whose values count (reviewed) gave
    disputed: list[int]  # codes some but not all of them gave
    # (unit "character") codes all of them gave, but on different words: also disputed
    span_disputed: list[int] = field(default_factory=list)
    decided: bool = False  # the consensus coder has reviewed it
    consensus: list[int] = field(default_factory=list)  # the consensus codes now
    decision: dict[str, Any] | None = None  # the latest trail row, if any


@dataclass
class Decision:
    """What :func:`decide` did."""

    decision_id: int
    segment_id: int
    codes: list[int]
    previous: list[int]
    added: list[int]
    removed: list[int]
    newly_reviewed: bool


@dataclass
class AutoAgree:
    """What :func:`auto_agree` did."""

    coders: list[str]
    decided: int = 0  # segments where every coder gave the same codes: now decided
    partial: int = 0  # segments where they share some codes: those copied, still undecided
    codings_added: int = 0
    already_decided: int = 0  # skipped: the consensus had decided them
    decision_ids: list[int] = field(default_factory=list)


@dataclass
class Progress:
    """Reconciliation progress over the units at least two compared coders reviewed."""

    coders: list[str]
    units: int  # segments with values from two or more coders
    agreed: int  # of those, segments where every coder gave the same codes
    disagreements: int  # segments where they differ (in scope)
    decided: int  # disagreements the consensus has decided
    remaining: int  # disagreements still to decide
    unanimous_pending: int  # fully unanimous (all coders reviewed) and not yet decided

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- reading ---------------------------------------------------------------------------------
def _exclude(consensus: str) -> tuple[str, ...]:
    from coder.store.agreement import NOT_COMPARED

    return tuple(dict.fromkeys((consensus, *NOT_COMPARED)))


def _load(store: Store, coders: list[str] | None, transcript: str | list[str] | None,
          all_segments: bool, consensus: str) -> Units:
    from coder.agreement import resolve_transcripts
    from coder.agreement.units import choose_coders, load_units

    names = [transcript] if isinstance(transcript, str) else transcript
    transcript_ids = resolve_transcripts(store, names)
    chosen = choose_coders(store, coders, transcript_ids, all_segments, _exclude(consensus))
    if consensus in chosen:
        raise CoderError(f"the consensus coder {consensus!r} cannot be one of the compared "
                         "coders")
    return load_units(store, chosen, transcript_ids, all_segments=all_segments)


def _scope(store: Store, units: Units, code: str | int | None) -> list[int]:
    """Columns of ``applied`` in scope: every code, or a code with its descendants."""
    if code is None:
        return list(range(len(units.codes)))
    index = units.code_index
    return [index[c] for c in code_scope(store, code)]


def _differ(units: Units, columns: list[int], store: Store | None = None,
            unit: str = "segment") -> tuple[np.ndarray, np.ndarray]:
    """Per unit: (at least two coders have values, they differ on a code in ``columns``);
    with ``unit`` "character" also where they gave a code on different words."""
    applied = units.applied[:, :, columns] & units.known[:, :, None]
    given = applied.sum(axis=0)
    known = units.known.sum(axis=0)
    shared = known >= 2
    differ = shared & ((given > 0) & (given < known[:, None])).any(axis=1)
    if unit == "character" and store is not None:
        for u in _span_disputes(store, units, columns):
            differ[u] = True
    return shared, differ


def _span_disputes(store: Store, units: Units, columns: list[int]) -> dict[int, list[int]]:
    """{unit index: code ids every coder there gave, on different words}."""
    from coder.agreement.span_differences import span_differences

    out: dict[int, list[int]] = {}
    for u, g in sorted(span_differences(store, units, columns)):
        out.setdefault(u, []).append(units.codes[columns[g]]["id"])
    return out


def _check_unit(unit: str) -> None:
    from coder.agreement import UNITS

    if unit not in UNITS:
        raise CoderError(f"the unit must be one of {', '.join(UNITS)}, not {unit!r}")


def list_disagreements(store: Store, coders: list[str] | None = None,
                       code: str | int | None = None, transcript: str | list[str] | None = None,
                       *, all_segments: bool = False, consensus: str = CONSENSUS,
                       pending_only: bool = False, unit: str = "segment") -> list[Disagreement]:
    """Segments (in document order) where at least two of ``coders`` have values and differ
    on ``code`` or one of its descendants (any code when None). With ``unit`` "character"
    also those where they all gave a code but on different words (``span_disputed``).

    ``coders`` default to everyone who reviewed something, except the consensus coder and
    ``auto``. A coder's codes count where the coder reviewed the segment (everywhere with
    ``all_segments``). ``pending_only`` leaves out the segments already decided.
    """
    import numpy as np

    from coder.store.agreement import segment_details, segment_memos
    from coder.store.consensus import latest_decisions, reviewed_among

    _check_unit(unit)
    units = _load(store, coders, transcript, all_segments, consensus)
    columns = _scope(store, units, code)
    _, differ = _differ(units, columns)
    by_words = _span_disputes(store, units, columns) if unit == "character" else {}
    for u in by_words:
        differ[u] = True
    index = np.flatnonzero(differ)
    seg_ids = units.segment[index].tolist()
    decided = reviewed_among(store, consensus, seg_ids)
    if pending_only:
        keep = [i for i, s in enumerate(seg_ids) if s not in decided]
        index, seg_ids = index[keep], [seg_ids[i] for i in keep]
    details = segment_details(store, seg_ids)
    memos = segment_memos(store, seg_ids)
    trail = latest_decisions(store, consensus, seg_ids)
    consensus_codes = _codes_of(store, consensus, seg_ids, units)
    raw = {coder: _codes_of(store, coder, seg_ids, units) for coder in units.coders}
    ids = [c["id"] for c in units.codes]
    spans = _spans_of(store, seg_ids)
    out = []
    for u, seg in zip(index.tolist(), seg_ids, strict=True):
        knows = units.known[:, u]
        applied = units.applied[:, u, :] & knows[:, None]
        given = applied.sum(axis=0)
        m = int(knows.sum())
        row = details[seg]
        out.append(Disagreement(
            segment_id=seg, transcript=row["transcript"], ordinal=row["ordinal"],
            speaker=row["speaker"], text=row["text"],
            coders={coder: CoderWork(coder, bool(knows[c]), raw[coder].get(seg, []),
                                     memos.get(seg, {}).get(coder),
                                     spans.get((seg, coder), []))
                    for c, coder in enumerate(units.coders)},
            agreed=[ids[k] for k in np.flatnonzero(given == m)],
            disputed=[ids[k] for k in np.flatnonzero((given > 0) & (given < m))],
            span_disputed=by_words.get(u, []), decided=seg in decided,
            consensus=consensus_codes.get(seg, []),
            decision=trail.get(seg)))
    return out


def _spans_of(store: Store, seg_ids: list[int]) -> dict[tuple[int, str], list[tuple[int, int,
                                                                                 int]]]:
    """Every coder's spans on the segments: {(segment id, coder): [(code, start, end)]}."""
    from coder.store.spans import segment_spans

    out: dict[tuple[int, str], list[tuple[int, int, int]]] = {}
    for seg, rows in segment_spans(store, seg_ids).items():
        for row in rows:
            out.setdefault((seg, row["coder"]), []).append(
                (row["code_id"], row["start"], row["end"]))
    return out


def _codes_of(store: Store, coder: str, seg_ids: list[int], units: Units) -> dict[int, list[int]]:
    """``coder``'s code ids per segment (of ``seg_ids``), in codebook order."""
    import numpy as np

    from coder.store.agreement import coding_array

    pairs = coding_array(store, coder)
    pairs = pairs[np.isin(pairs[:, 0], np.asarray(seg_ids, dtype=np.int64))]
    position = {c["id"]: k for k, c in enumerate(units.codes)}
    out: dict[int, set[int]] = {}
    for seg, code_id in pairs.tolist():
        out.setdefault(seg, set()).add(code_id)
    return {s: sorted(codes, key=lambda c: position.get(c, 0)) for s, codes in out.items()}


def progress(store: Store, coders: list[str] | None = None, code: str | int | None = None,
             transcript: str | list[str] | None = None, *, all_segments: bool = False,
             consensus: str = CONSENSUS, unit: str = "segment") -> Progress:
    """How far reconciliation has come (see :class:`Progress`); with ``unit`` "character"
    coders who gave a code on different words disagree."""
    import numpy as np

    from coder.store.consensus import reviewed_among

    _check_unit(unit)
    units = _load(store, coders, transcript, all_segments, consensus)
    shared, differ = _differ(units, _scope(store, units, code), store, unit)
    _, any_differ = _differ(units, list(range(len(units.codes))), store, unit)
    seg_ids = units.segment.tolist()
    decided = reviewed_among(store, consensus, seg_ids)
    is_decided = np.array([s in decided for s in seg_ids], dtype=bool)
    everyone = units.known.all(axis=0)
    n_decided = int((differ & is_decided).sum())
    return Progress(
        coders=units.coders, units=int(shared.sum()), agreed=int((shared & ~any_differ).sum()),
        disagreements=int(differ.sum()), decided=n_decided,
        remaining=int(differ.sum()) - n_decided,
        unanimous_pending=int((everyone & ~any_differ & ~is_decided).sum()))


def trail(store: Store, segment_id: int | None = None,
          consensus: str | None = None) -> list[dict[str, Any]]:
    """The reconciliation trail, oldest first: id, segment_id, transcript, ordinal,
    consensus, adjudicator, method, note, codes, previous, coders, decided_at."""
    from coder.store.consensus import decisions

    return decisions(store, segment_id, consensus)


def load_segment(store: Store, segment_id: int, coders: list[str] | None = None, *,
                 all_segments: bool = False, consensus: str = CONSENSUS) -> Disagreement:
    """One segment as a :class:`Disagreement` (whether or not the coders differ on it):
    ``coders`` default to everyone with work on it except the consensus coder and ``auto``."""
    from coder.store.agreement import segment_details
    from coder.store.consensus import coders_on, codes_on, is_reviewed, latest_decisions

    details = segment_details(store, [segment_id])
    if segment_id not in details:
        raise CoderError(f"no segment with id {segment_id}")
    row = details[segment_id]
    who = coders if coders else coders_on(store, segment_id, _exclude(consensus))
    work = {}
    spans = _spans_of(store, [segment_id])
    for coder in who:
        memo = segment_memo_text(store, segment_id, coder)
        work[coder] = CoderWork(coder, all_segments or is_reviewed(store, segment_id, coder),
                                codes_on(store, segment_id, coder), memo,
                                spans.get((segment_id, coder), []))
    counted = [set(w.codes) for w in work.values() if w.reviewed]
    union = set().union(*counted) if counted else set()
    agreed = set.intersection(*counted) if counted else set()
    order = {c["id"]: k for k, c in enumerate(_codes(store))}

    def rank(code_id: int) -> int:  # codebook order
        return order.get(code_id, len(order))

    return Disagreement(
        segment_id=segment_id, transcript=row["transcript"], ordinal=row["ordinal"],
        speaker=row["speaker"], text=row["text"], coders=work,
        agreed=sorted(agreed, key=rank),
        disputed=sorted(union - agreed, key=rank) if len(counted) >= 2 else [],
        decided=is_reviewed(store, segment_id, consensus),
        consensus=codes_on(store, segment_id, consensus),
        decision=latest_decisions(store, consensus, [segment_id]).get(segment_id))


def _codes(store: Store) -> list[dict[str, Any]]:
    from coder.store.agreement import code_tree

    return code_tree(store)


def code_scope(store: Store, code: str | int) -> list[int]:
    """A code's id and its descendants' ids (the scope of a filter by code)."""
    codes = _codes(store)
    if isinstance(code, int):
        root = code
        if all(row["id"] != root for row in codes):
            raise CoderError(f"no code with id {root}")
    else:
        from coder.store.codes import find_code

        root = find_code(store, code)["id"]
    wanted = {root}
    for row in codes:  # tree order: parents before children
        if row["parent_id"] in wanted:
            wanted.add(row["id"])
    return [row["id"] for row in codes if row["id"] in wanted]


def names_of(store: Store, code_ids: list[int]) -> list[str]:
    """Code names for ids, in the given order."""
    from coder.store.consensus import code_names

    names = code_names(store, code_ids)
    return [names[c] for c in code_ids]


# -- choosing --------------------------------------------------------------------------------
def proposal(item: Disagreement, take: str, scope: set[int] | None = None) -> set[int]:
    """The consensus codes for a choice on a disagreement.

    ``take`` is a coder's name (that coder's codes), ``both``/``all`` (every code a coder
    whose values count gave) or ``none`` (none of the disputed codes: only those every
    coder gave). With ``scope`` (code ids, e.g. the code the screen is filtered by) only
    those codes follow the choice; the others stay as the consensus has them, or as agreed
    if undecided.
    """
    if take in item.coders:
        chosen = set(item.coders[take].codes)
    elif take in UNION:
        chosen = {c for work in item.coders.values() if work.reviewed for c in work.codes}
    elif take == AGREED:
        chosen = set(item.agreed)
    else:
        raise CoderError(f"take one of {', '.join(item.coders)}, both or none, not {take!r}")
    if scope is None:
        return chosen
    base = set(item.consensus) if item.decided else set(item.agreed)
    return (base - scope) | (chosen & scope)


def _check_exclusive(store: Store, code_ids: set[int]) -> None:
    """Refuse two children of one exclusive code."""
    codes = {c["id"]: c for c in _codes(store)}
    by_parent: dict[int, list[str]] = {}
    for code_id in code_ids:
        parent = codes[code_id]["parent_id"]
        if parent is not None and codes[parent]["exclusive"]:
            by_parent.setdefault(parent, []).append(codes[code_id]["name"])
    for parent, names in by_parent.items():
        if len(names) > 1:
            raise CoderError(f"{' and '.join(repr(n) for n in sorted(names))} are both children "
                             f"of the exclusive code {codes[parent]['name']!r}: choose one")


# -- deciding --------------------------------------------------------------------------------
def decide(store: Store, segment_id: int, codes: set[int], *, adjudicator: str, note: str = "",
           consensus: str = CONSENSUS, coders: list[str] | None = None,
           spans_from: str | None = None) -> Decision:
    """Make ``codes`` the consensus coding of the segment, in one transaction.

    Sets the consensus coder's codings there (origin ``consensus``), marks the segment
    reviewed by the consensus coder, and appends a trail row with the adjudicator, the
    note, the codes before and what each coder had (``coders``, default everyone with work
    on the segment except the consensus coder and ``auto``). Logs ``coding.add``,
    ``coding.remove`` and ``review.add`` events, then ``consensus.decide`` with the trail
    row, the codes before and after, and what was added and removed.

    ``spans_from`` (a coder whose reading is taken): where that coder gave one of
    ``codes`` only as spans, the consensus gets the same spans instead of the whole segment.
    """
    from coder.store.consensus import (
        code_names,
        coders_on,
        codes_on,
        mark_decided,
        record_decision,
        segment_row,
        set_codes,
        work_on,
    )

    codes = set(codes)
    with store.transaction("reconcile"):
        segment_row(store, segment_id)
        names = code_names(store, codes)
        _check_exclusive(store, codes)
        who = coders if coders is not None else coders_on(store, segment_id, _exclude(consensus))
        work = work_on(store, segment_id, who)
        previous = codes_on(store, segment_id, consensus)
        before = code_names(store, previous)
        added, removed = set_codes(store, segment_id, codes, coder=consensus)
        if spans_from:
            _copy_spans(store, segment_id, codes, source=spans_from, consensus=consensus)
        newly = mark_decided(store, segment_id, consensus)
        ordered = codes_on(store, segment_id, consensus)
        row = record_decision(
            store, segment_id=segment_id, consensus=consensus, adjudicator=adjudicator,
            method="manual", note=note.strip(), codes=[names[c] for c in ordered],
            previous=[before[c] for c in previous], coders=work,
            code_ids=ordered, previous_ids=previous, added=added, removed=removed,
            reviewed_added=newly)
    return Decision(row["id"], segment_id, ordered, previous, added, removed, newly)


def _copy_spans(store: Store, segment_id: int, codes: set[int], *, source: str,
                consensus: str) -> None:
    """Give ``consensus`` ``source``'s spans of the codes ``source`` gave only as spans, and
    the whole segment where ``source`` gave it whole (a span taken earlier goes)."""
    from coder.store.codings import apply_coding, remove_coding, whole_codes
    from coder.store.spans import segment_spans
    from coder.store.transcripts import segment_start

    offset = segment_start(store, segment_id)
    rows = segment_spans(store, [segment_id]).get(segment_id, [])
    theirs: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        if row["coder"] == source and row["code_id"] in codes:
            theirs.setdefault(row["code_id"], []).append((row["start"], row["end"]))
    whole = whole_codes(store, segment_id, source)
    for code_id in set(whole) & codes:
        stale = [r for r in rows if r["coder"] == consensus and r["code_id"] == code_id]
        if stale:
            remove_coding(store, segment_id, code_id, coder=consensus)
            apply_coding(store, segment_id, code_id, coder=consensus, origin="consensus")
    for code_id, spans in theirs.items():
        if code_id in whole:
            continue
        mine = {(r["start"], r["end"]) for r in rows
                if r["coder"] == consensus and r["code_id"] == code_id}
        if mine == set(spans):
            continue
        remove_coding(store, segment_id, code_id, coder=consensus)
        for start, end in spans:
            apply_coding(store, segment_id, code_id, coder=consensus, origin="consensus",
                         span=(offset + start, offset + end))


def auto_agree(store: Store, coders: list[str] | None = None, *, adjudicator: str,
               consensus: str = CONSENSUS, transcript: str | list[str] | None = None,
               unit: str = "segment") -> AutoAgree:
    """Copy unanimous codings to the consensus, on segments every compared coder reviewed.

    Where every coder gave exactly the same codes (possibly none), the consensus gets them
    and the segment is decided (a trail row with method ``auto``). Where they share only
    some codes, those are copied and the segment stays undecided for the adjudicator.
    Segments the consensus already decided are left alone; running it again adds nothing.
    Logs the codings and marks, then ``consensus.auto`` with the trail rows' ids. With
    ``unit`` "character" a code the coders gave on different words is not shared.
    """
    import numpy as np

    from coder.store.agreement import segment_memos
    from coder.store.consensus import (
        codes_on,
        mark_decided,
        record_decision,
        reviewed_among,
        set_codes,
    )

    _check_unit(unit)
    units = _load(store, coders, transcript, False, consensus)
    by_words = (_span_disputes(store, units, list(range(len(units.codes))))
                if unit == "character" else {})
    result = AutoAgree(coders=units.coders)
    everyone = np.flatnonzero(units.known.all(axis=0))
    seg_ids = units.segment[everyone].tolist()
    done = reviewed_among(store, consensus, seg_ids)
    ids = [c["id"] for c in units.codes]
    names = [c["name"] for c in units.codes]
    name_of = dict(zip(ids, names, strict=True))
    memos = segment_memos(store, seg_ids)
    decided_segments: list[int] = []
    with store.transaction("reconcile"):
        for u, seg in zip(everyone.tolist(), seg_ids, strict=True):
            if seg in done:
                result.already_decided += 1
                continue
            applied = units.applied[:, u, :]
            apart = [k for k, c in enumerate(ids) if c in by_words.get(u, ())]
            shared = np.setdiff1d(np.flatnonzero(applied.all(axis=0)), apart)
            unanimous = not (applied.any(axis=0) & ~applied.all(axis=0)).any() and not apart
            if not unanimous and not len(shared):
                continue
            previous = codes_on(store, seg, consensus)
            added, _ = set_codes(store, seg, [ids[k] for k in shared], coder=consensus,
                                 remove=False)
            result.codings_added += len(added)
            if not unanimous:
                result.partial += 1
                continue
            mark_decided(store, seg, consensus)
            work = {coder: {"reviewed": True, "codes": [names[k] for k in shared],
                            "memo": memos.get(seg, {}).get(coder)} for coder in units.coders}
            row = record_decision(
                store, segment_id=seg, consensus=consensus, adjudicator=adjudicator,
                method="auto", note=f"unanimous: {len(units.coders)} coders gave the same codes",
                codes=[name_of[c] for c in codes_on(store, seg, consensus)],
                previous=[name_of[c] for c in previous], coders=work, log=False)
            result.decided += 1
            result.decision_ids.append(row["id"])
            decided_segments.append(seg)
        if result.codings_added or result.decided:
            store.log("consensus.auto", consensus=consensus, coders=units.coders,
                      decision_ids=result.decision_ids, segments=decided_segments,
                      codings_added=result.codings_added, partial=result.partial)
    return result
