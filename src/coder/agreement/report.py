"""The agreement report: statistics per code, per exclusive group, per transcript, overall.

Definitions (``coder agreement --help`` says the same):

* Per **code**: the variable is present/absent on each unit.
* Per **exclusive group** (a code marked ``exclusive`` with children): one nominal variable
  whose value is the child applied, or "none of them". A coder who gave two or more
  children on one unit has no value there (it is missing) and the unit is listed under
  ``conflicts``: nothing is picked silently.
* Per **transcript** and **overall (pooled)**: every unit × code pair of the selected codes
  is one present/absent value, pooled into one variable. ``overall`` also gives
  ``mean_krippendorff_alpha``, the unweighted mean of the per-code alphas that are defined.
* ``units`` counts units (segments, or characters) with values from at least two coders;
  ``cells`` counts the unit × code pairs a pooled statistic rests on.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from coder.agreement import DEFAULT_THRESHOLD
from coder.agreement.statistics import Stat, statistics, summarise
from coder.agreement.units import Units

if TYPE_CHECKING:
    import numpy as np

OVERALL = ("pooled over codes: every unit × code pair is one present/absent value; "
           "mean_krippendorff_alpha is the unweighted mean of the per-code alphas that are "
           "defined")


def binary_values(units: Units, columns: list[int]) -> np.ndarray:
    """``(coders, units, codes)`` values: 1 present, 0 absent, -1 unknown."""
    import numpy as np

    values = units.applied[:, :, columns].astype(np.int8)
    values[~units.known] = -1
    return values


def group_values(units: Units, children: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One exclusive group's values (0 none, i for child i, -1 unknown or conflict) and the
    ``(coders, units)`` mask of conflicts (two or more children on one unit)."""
    import numpy as np

    chosen = units.applied[:, :, children]
    given = chosen.sum(axis=2)
    conflict = units.known & (given >= 2)
    values = np.where(given == 1, chosen.argmax(axis=2) + 1, 0)
    values = np.where(units.known & ~conflict, values, -1).astype(np.int8)
    return values, conflict


def _by_transcript(units: Units) -> tuple[np.ndarray | None, np.ndarray]:
    """(order that sorts units by transcript, or None if they are sorted; group starts)."""
    import numpy as np

    transcript = units.transcript
    order = None
    if len(transcript) > 1 and np.any(transcript[1:] < transcript[:-1]):
        order = np.argsort(transcript, kind="stable")
        transcript = transcript[order]
    return order, np.searchsorted(transcript, np.arange(len(units.transcripts)))


def agreement_report(units: Units, columns: list[int] | None = None,
                     threshold: float = DEFAULT_THRESHOLD,
                     by_transcript: bool | None = None) -> dict[str, Any]:
    """The whole report as JSON-ready data (see the module docstring for the definitions).

    ``by_transcript`` adds each transcript's per-code statistics (``transcripts[i].codes``);
    by default only for character units, where they are what NVivo reports."""
    import numpy as np

    coders = units.coders
    columns = list(range(len(units.codes))) if columns is None else list(columns)
    n_codes, n_units = len(columns), units.known.shape[1]
    pairs = list(combinations(range(len(coders)), 2))
    order, starts = _by_transcript(units)
    values = binary_values(units, columns)
    weight = units.weight
    if order is not None:
        values = values[:, order]
        weight = None if weight is None else weight[order]
    sums = summarise(values, 2, starts=starts, weight=weight, pairs=pairs)  # (T, K)
    del values
    if by_transcript is None:
        by_transcript = units.unit == "character"
    per_both = statistics(sums.flat()) if by_transcript else None
    per_code = statistics(sums.total(0))
    per_transcript = statistics(sums.total(1))
    pooled = statistics(sums.grand())

    w = np.ones(n_units) if units.weight is None else units.weight
    shared = units.known.sum(axis=0) >= 2
    unit_count = _count(float(w[shared].sum()))
    units_per_transcript = np.bincount(units.transcript[shared], w[shared],
                                       minlength=len(units.transcripts))
    entry = _Entries(coders, pairs)
    codes_out = []
    for g, k in enumerate(columns):
        code = units.codes[k]
        item = {"code": code["name"], **entry(per_code, g)}
        alpha = item["krippendorff_alpha"]
        item["below_threshold"] = alpha is not None and alpha < threshold
        item["path"] = code["path"]
        item["definition"] = code["definition"]
        codes_out.append(item)
    alphas = [c["krippendorff_alpha"] for c in codes_out if c["krippendorff_alpha"] is not None]
    overall = {"definition": OVERALL, **_pooled(entry(pooled, 0), unit_count),
               "mean_krippendorff_alpha": sum(alphas) / len(alphas) if alphas else None,
               "codes_in_mean": len(alphas)}
    if not alphas:
        overall["notes"]["mean_krippendorff_alpha"] = "no code has a defined alpha"
    transcripts_out = []
    for t, name in enumerate(units.transcripts):
        item = {"transcript": name,
                **_pooled(entry(per_transcript, t), _count(float(units_per_transcript[t])))}
        if per_both is not None:  # by transcript
            item["codes"] = [{"code": units.codes[k]["name"],
                              **entry(per_both, t * n_codes + g)}
                             for g, k in enumerate(columns)]
        transcripts_out.append(item)
    groups_out, conflicts = _groups(units, columns, pairs, entry)
    return {
        "unit": units.unit, "all_segments": units.all_segments, "threshold": threshold,
        "coders": list(coders), "units": unit_count, "codes": codes_out, "groups": groups_out,
        "transcripts": transcripts_out, "overall": overall, "conflicts": conflicts,
        "ignored_codings": dict(units.ignored),
    }


def _groups(units: Units, columns: list[int], pairs: list[tuple[int, int]],
            entry: _Entries) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Statistics per exclusive group that the selection touches, and their conflicts."""
    import numpy as np

    wanted = set(columns)
    out, conflicts = [], []
    for k, children in units.groups():
        if k not in wanted and not wanted.intersection(children):
            continue
        values, conflict = group_values(units, children)
        sums = summarise(values[:, :, None], len(children) + 1, weight=units.weight,
                         pairs=pairs)
        item = {"group": units.codes[k]["name"], **entry(statistics(sums.flat()), 0)}
        item["values"] = ["(none)"] + [units.codes[j]["name"] for j in children]
        out.append(item)
        seen = set()
        for c, u in zip(*np.nonzero(conflict), strict=True):
            key = (c, int(units.segment[u]))
            if key in seen:
                continue
            seen.add(key)
            given = [units.codes[children[j]]["name"]
                     for j in np.flatnonzero(units.applied[c, u, children])]
            conflicts.append({
                "group": units.codes[k]["name"], "coder": units.coders[c],
                "transcript": units.transcripts[units.transcript[u]],
                "segment": int(units.ordinal[u]), "codes": given})
    return out, conflicts


class _Entries:
    """Turns one group of a :class:`Stat` into the JSON fields, with notes on nulls."""

    def __init__(self, coders: list[str], pairs: list[tuple[int, int]]):
        self.coders = coders
        self.pairs = pairs
        self.keys = {p: f"{coders[p[0]]}|{coders[p[1]]}" for p in pairs}

    def __call__(self, stat: Stat, g: int) -> dict[str, Any]:
        raw = stat.notes[g]
        notes: dict[str, Any] = {k: v for k, v in raw.items() if k != "cohen_kappa"}
        pairwise = {self.keys[p]: stat.value("cohen_kappa", g, p) for p in self.pairs}
        why_pairs = {self.keys[p]: why for p, why in raw.get("cohen_kappa", {}).items()}
        if why_pairs:
            notes["pairwise_cohen_kappa"] = why_pairs
        if len(self.pairs) == 1:
            cohen = pairwise[self.keys[self.pairs[0]]]
            if cohen is None:
                notes["cohen_kappa"] = why_pairs[self.keys[self.pairs[0]]]
        else:
            cohen = None
            notes["cohen_kappa"] = (f"{len(self.coders)} coders: Cohen's kappa is for two; "
                                    "see pairwise_cohen_kappa")
        return {"units": _count(float(stat.units[g])),
                "percent_agreement": stat.value("percent_agreement", g),
                "cohen_kappa": cohen, "pairwise_cohen_kappa": pairwise,
                "fleiss_kappa": stat.value("fleiss_kappa", g),
                "krippendorff_alpha": stat.value("krippendorff_alpha", g), "notes": notes}


def _pooled(item: dict[str, Any], units: int | float) -> dict[str, Any]:
    """A pooled entry: ``units`` are units, ``cells`` the unit × code pairs pooled."""
    return {"units": units, "cells": item.pop("units"), **item}


def _count(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def pairwise_alpha(units: Units, columns: list[int]) -> dict[str, list[float | None]]:
    """Krippendorff's alpha per code for each coder pair alone: {"a|b": [alpha per code]}."""
    values = binary_values(units, columns)
    out = {}
    for a, b in combinations(range(len(units.coders)), 2):
        stat = statistics(summarise(values[[a, b]], 2, weight=units.weight, pairs=[]).flat())
        out[f"{units.coders[a]}|{units.coders[b]}"] = [
            stat.value("krippendorff_alpha", g) for g in range(len(columns))]
    return out
