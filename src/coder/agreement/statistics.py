"""Nominal agreement statistics, vectorised with numpy.

Data come as a ``(coders, units, variables)`` integer array: ``values[c, u, k]`` is the
category coder ``c`` gave unit ``u`` on variable ``k`` (``0 … n_values-1``), or ``-1`` where
that value is missing. Variables are codes (present 1 / absent 0) or one exclusive group.
Units are sorted into *groups* (transcripts) given by their ``starts``; each unit has a
``weight`` (1 for a segment, its length for a run of characters). :func:`summarise` reduces
the data to sufficient statistics per (group, variable) in one pass; they add up, so the
statistics per variable, per group and overall come from sums of that small array.
:func:`statistics` turns sums into:

* **percent agreement**: the share of units with values from at least two coders on which
  every coder who gave a value gave the same one, as a percentage;
* **Cohen's kappa** per coder pair, on the units both gave a value (Cohen 1960; equal to
  scikit-learn's ``cohen_kappa_score``);
* **Fleiss' kappa** on the units every coder gave a value (Fleiss 1971; equal to
  statsmodels' ``fleiss_kappa``);
* **Krippendorff's alpha**, nominal, on every unit with at least two values, the others
  missing (Krippendorff 2011; equal to the ``krippendorff`` package).

An undefined statistic is NaN in the arrays and ``None`` from :meth:`Stat.value`, with its
reason in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Pair = tuple[int, int]

NO_PAIRS = "no unit has values from two coders"
NO_VARIATION = "no variation: every value is the same"
NO_COMMON = "the two coders have no unit in common"
COHEN_NO_VARIATION = "no variation: both coders gave the same single value on every unit"


@dataclass
class Sums:
    """Sufficient statistics; every array has the same leading shape (e.g. groups x
    variables), the last axes of ``value_counts``/``full_counts`` (V) and ``confusion``
    (V x V) are categories."""

    n_coders: int
    units: np.ndarray  # weight of units with values from at least two coders
    values: np.ndarray  # their values (alpha's n)
    same_pairs: np.ndarray  # sum over those units of sum_v n_v (n_v - 1) / (m_u - 1)
    value_counts: np.ndarray  # (..., V): their values per category (alpha's n_v)
    agree: np.ndarray  # weight of units where every value is the same
    full_units: np.ndarray  # weight of units every coder gave a value (Fleiss' subjects)
    full_squares: np.ndarray  # sum over those units of sum_v n_v^2
    full_counts: np.ndarray  # (..., V) over those units
    confusion: dict[Pair, np.ndarray] = field(default_factory=dict)  # (..., V, V)

    def _map(self, function) -> Sums:
        arrays = {f.name: function(getattr(self, f.name)) for f in fields(self)
                  if f.name not in ("n_coders", "confusion")}
        return Sums(n_coders=self.n_coders, **arrays,
                    confusion={p: function(c) for p, c in self.confusion.items()})

    def total(self, axis: int) -> Sums:
        """Sum over one leading axis (e.g. 0: over groups, per variable)."""
        return self._map(lambda a: a.sum(axis=axis))

    def grand(self) -> Sums:
        """Everything summed into one entry (leading shape (1,))."""
        lead = tuple(range(self.units.ndim))
        return self._map(lambda a: a.sum(axis=lead)[None])

    def flat(self) -> Sums:
        """The leading axes as one (row-major)."""
        lead = self.units.ndim
        return self._map(lambda a: a.reshape(-1, *a.shape[lead:]))


def summarise(values: np.ndarray, n_values: int, *, starts: np.ndarray | None = None,
              weight: np.ndarray | None = None, pairs: list[Pair] | None = None) -> Sums:
    """Sums per (group, variable) of a ``(coders, units, variables)`` array.

    ``starts`` are the first unit of each group (units sorted by group; default one group),
    ``weight`` each unit's weight (default 1), ``pairs`` the coder pairs for Cohen's kappa
    (default every pair). Arrays in the result have shape (groups, variables).
    """
    import numpy as np

    values = np.asarray(values)
    n_coders, n_units, n_vars = values.shape
    starts = np.zeros(1, dtype=np.intp) if starts is None else np.asarray(starts, np.intp)
    ends = np.append(starts[1:], n_units)
    w = None if weight is None else np.asarray(weight, dtype=float)[:, None]

    nonempty = ends > starts
    first = starts[nonempty]
    # Integer sums are exact; 32 bits are faster and enough while no sum can pass 2^31.
    integer = np.int32 if n_units * max(n_coders, 1) ** 2 < 2 ** 31 else np.int64

    def per_group(x: np.ndarray) -> np.ndarray:
        """(units, variables) -> (groups, variables): sums over each group's units."""
        if w is not None:
            x = x * w
        elif x.dtype == bool:
            x = x.view(np.int8)
        out = np.zeros((len(starts), n_vars))
        if len(first):
            out[nonempty] = np.add.reduceat(x, first, axis=0,
                                            dtype=np.float64 if x.dtype.kind == "f" else integer)
        return out

    is_value = [values == v for v in range(n_values)]  # each (coders, units, variables)
    counts = [v.sum(axis=0, dtype=np.int16) for v in is_value]
    known = np.sum(counts, axis=0, dtype=np.int16) if counts else \
        np.zeros((n_units, n_vars), np.int16)
    pairable = np.asarray(known >= 2)
    full = known == n_coders
    same = np.zeros((n_units, n_vars))
    squares = np.zeros((n_units, n_vars), dtype=np.int32)
    largest = np.zeros((n_units, n_vars), dtype=np.int16)
    for c in counts:
        same += c * (c - 1.0)
        squares += c.astype(np.int32) ** 2
        np.maximum(largest, c, out=largest)
    np.divide(same, known - 1.0, out=same, where=pairable)
    same[~pairable] = 0.0
    sums = Sums(
        n_coders=n_coders, units=per_group(pairable),
        values=per_group(np.where(pairable, known, 0)), same_pairs=per_group(same),
        value_counts=np.stack([per_group(np.where(pairable, c, 0)) for c in counts], axis=-1),
        agree=per_group(pairable & (largest == known)), full_units=per_group(full),
        full_squares=per_group(np.where(full, squares, 0)),
        full_counts=np.stack([per_group(np.where(full, c, 0)) for c in counts], axis=-1))
    for a, b in pairs if pairs is not None else combinations(range(n_coders), 2):
        cells = [[per_group(is_value[i][a] & is_value[j][b]) for j in range(n_values)]
                 for i in range(n_values)]
        sums.confusion[(a, b)] = np.stack([np.stack(row, axis=-1) for row in cells], axis=-2)
    return sums


@dataclass
class Stat:
    """Statistics per group: 1-D arrays with NaN where undefined, reasons in ``notes``."""

    units: np.ndarray
    percent_agreement: np.ndarray
    fleiss_kappa: np.ndarray
    krippendorff_alpha: np.ndarray
    cohen_kappa: dict[Pair, np.ndarray]
    notes: list[dict[str, Any]]  # per group: {statistic: reason}, cohen: {pair: reason}

    def value(self, name: str, g: int, pair: Pair | None = None) -> float | None:
        """One statistic as a float, or None where undefined."""
        array = self.cohen_kappa[pair] if pair else getattr(self, name)
        x = float(array[g])
        return None if x != x else x


def statistics(sums: Sums) -> Stat:
    """All statistics for every entry of 1-D sums (see :meth:`Sums.flat`), with a reason
    wherever one is undefined."""
    import numpy as np

    if sums.units.ndim != 1:
        sums = sums.flat()
    groups = len(sums.units)
    notes: list[dict[str, Any]] = [{} for _ in range(groups)]
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(sums.units > 0, 100.0 * sums.agree / sums.units, np.nan)
        n = sums.values
        expected = n * n - (sums.value_counts ** 2).sum(axis=-1)
        alpha = np.where((n >= 2) & (expected > 0),
                         1.0 - (n - 1.0) * (n - sums.same_pairs) / expected, np.nan)
        raters = sums.n_coders
        total = sums.full_units * raters
        p_cat = sums.full_counts / total[:, None]
        chance = (p_cat ** 2).sum(axis=-1)
        observed = (sums.full_squares - total) / (total * (raters - 1))
        varied = (sums.full_counts > 0).sum(axis=-1) >= 2
        fleiss = np.where((raters >= 2) & (sums.full_units > 0) & varied,
                          (observed - chance) / (1.0 - chance), np.nan)
        cohen = {pair: _cohen(confusion) for pair, confusion in sums.confusion.items()}
    for g in np.flatnonzero(np.isnan(alpha) | np.isnan(fleiss) | (sums.units == 0)
                            | np.any([np.isnan(k) for k in cohen.values()] or [False],
                                     axis=0)):
        if not sums.units[g]:
            notes[g]["percent_agreement"] = NO_PAIRS
        if alpha[g] != alpha[g]:
            notes[g]["krippendorff_alpha"] = NO_PAIRS if n[g] < 2 else NO_VARIATION
        if fleiss[g] != fleiss[g]:
            notes[g]["fleiss_kappa"] = (
                "needs at least two coders" if raters < 2 else
                f"no unit has values from all {raters} coders" if not sums.full_units[g]
                else NO_VARIATION)
        for pair, kappa in cohen.items():
            if kappa[g] != kappa[g]:
                why = NO_COMMON if not sums.confusion[pair][g].sum() else COHEN_NO_VARIATION
                notes[g].setdefault("cohen_kappa", {})[pair] = why
    return Stat(units=sums.units, percent_agreement=percent, fleiss_kappa=fleiss,
                krippendorff_alpha=alpha, cohen_kappa=cohen, notes=notes)


def _cohen(confusion: np.ndarray) -> np.ndarray:
    """Cohen's kappa for a stack of V x V tables; NaN where undefined."""
    import numpy as np

    n = confusion.sum(axis=(-2, -1))
    chance = np.einsum("gi,gi->g", confusion.sum(axis=-1), confusion.sum(axis=-2))
    observed = np.einsum("gii->g", confusion)
    return np.where((n > 0) & (chance < n * n), (n * observed - chance) / (n * n - chance),
                    np.nan)


# -- plain entry points on raw data (tests, scripts) ---------------------------------------
def _encode(data: Any) -> tuple[np.ndarray, int]:
    """Numbers with NaN for missing -> (category indices with -1, number of categories)."""
    import numpy as np

    data = np.asarray(data, dtype=float)
    present = ~np.isnan(data)
    domain = np.unique(data[present])
    codes = np.full(data.shape, -1, dtype=np.int8 if len(domain) < 127 else np.int64)
    codes[present] = np.searchsorted(domain, data[present])
    return codes, max(len(domain), 1)


def _one(data: Any, pairs: list[Pair] | None = None) -> Stat:
    codes, n_values = _encode(data)
    return statistics(summarise(codes[:, :, None], n_values, pairs=pairs or []).flat())


def krippendorff_alpha(data: Any) -> float | None:
    """Nominal alpha of a ``(coders, units)`` matrix, NaN marking missing values."""
    return _one(data).value("krippendorff_alpha", 0)


def fleiss_kappa(data: Any) -> float | None:
    """Fleiss' kappa of a ``(coders, units)`` matrix, on the units every coder rated."""
    return _one(data).value("fleiss_kappa", 0)


def cohen_kappa(a: Any, b: Any) -> float | None:
    """Cohen's kappa of two coders' values (NaN = missing), on the units both rated."""
    import numpy as np

    return _one(np.vstack([a, b]), [(0, 1)]).value("cohen_kappa", 0, (0, 1))


def percent_agreement(data: Any) -> float | None:
    """Percent of units (with two or more values) on which every value is the same."""
    return _one(data).value("percent_agreement", 0)


def fleiss_kappa_table(table: Any) -> float | None:
    """Fleiss' kappa of a subjects x categories table of counts, as Fleiss (1971) gives it."""
    import numpy as np

    table = np.asarray(table, dtype=np.int64)
    raters = int(table[0].sum())
    if not np.all(table.sum(axis=1) == raters):
        raise ValueError("every subject needs the same number of ratings")
    # Any assignment of the ratings to raters gives the same kappa: rater r gets rating r.
    values = np.vstack([np.repeat(np.arange(table.shape[1]), row) for row in table]).T
    sums = summarise(values[:, :, None], table.shape[1], pairs=[])
    return statistics(sums.flat()).value("fleiss_kappa", 0)
