"""The agreement statistics against published examples and the reference libraries."""

from __future__ import annotations

import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from coder.agreement.statistics import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_table,
    krippendorff_alpha,
    percent_agreement,
    statistics,
    summarise,
)

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: four
# observers, twelve units, values 1-5, missing values marked.
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])

# Fleiss (1971) as given on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters,
# 5 categories; counts of raters per category.
FLEISS_1971 = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def test_krippendorffs_published_example_gives_0_743() -> None:
    alpha = krippendorff_alpha(KRIPPENDORFF_2011)
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(
        krippendorff.alpha(KRIPPENDORFF_2011, level_of_measurement="nominal"), abs=1e-12)


def test_fleiss_published_table_gives_0_210() -> None:
    kappa = fleiss_kappa_table(FLEISS_1971)
    assert round(kappa, 3) == 0.210
    assert kappa == pytest.approx(statsmodels_fleiss(FLEISS_1971), abs=1e-12)


def _random_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coders, units, values = rng.integers(2, 7), rng.integers(3, 150), rng.integers(2, 6)
    data = rng.integers(0, values, (coders, units)).astype(float)
    # Agreement above chance: some coders copy a reference coder on some units.
    copy = rng.random(data.shape) < rng.random()
    data = np.where(copy, data[0], data)
    data[rng.random(data.shape) < rng.random() * 0.6] = NAN
    return data


def _quiet(function, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.mark.parametrize("seed", range(40))
def test_random_data_with_missing_values_equal_the_reference_libraries(seed: int) -> None:
    data = _random_data(seed)
    # Krippendorff's alpha: every unit with two or more values.
    try:
        expected = _quiet(krippendorff.alpha, data, level_of_measurement="nominal")
    except ValueError:  # fewer than two values in the domain, or no pairable unit
        expected = NAN
    mine = krippendorff_alpha(data)
    if np.isnan(expected):
        assert mine is None
    else:
        assert mine == pytest.approx(expected, abs=1e-12)
    # Fleiss' kappa: the units every coder rated.
    complete = ~np.isnan(data).any(axis=0)
    if complete.any():
        table, _ = aggregate_raters(data[:, complete].T.astype(int))
        expected = _quiet(statsmodels_fleiss, table)
        mine = fleiss_kappa(data)
        assert (mine is None) if np.isnan(expected) else mine == pytest.approx(expected,
                                                                               abs=1e-12)
    else:
        assert fleiss_kappa(data) is None
    # Cohen's kappa per pair: the units both rated.
    for a, b in combinations(range(len(data)), 2):
        both = ~np.isnan(data[a]) & ~np.isnan(data[b])
        mine = cohen_kappa(data[a], data[b])
        if not both.any():
            assert mine is None
            continue
        expected = _quiet(cohen_kappa_score, data[a, both], data[b, both])
        assert (mine is None) if np.isnan(expected) else mine == pytest.approx(expected,
                                                                               abs=1e-12)
    # Percent agreement: units with two or more values on which all values are equal.
    shared = [column[~np.isnan(column)] for column in data.T if (~np.isnan(column)).sum() >= 2]
    mine = percent_agreement(data)
    if shared:
        assert mine == pytest.approx(100 * np.mean([len(set(c)) == 1 for c in shared]))
    else:
        assert mine is None


@pytest.mark.parametrize("seed", range(10))
def test_weights_count_like_repeated_units_and_groups_like_separate_runs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    values = rng.integers(-1, 3, (3, 40, 2))
    weight = rng.integers(1, 6, 40)
    starts = np.array([0, 10, 10, 25])  # four groups, one of them empty
    sums = summarise(values, 3, starts=starts, weight=weight)
    grouped = statistics(sums.flat())
    per_variable = statistics(sums.total(0))
    ends = [10, 10, 25, 40]
    for g, (start, end) in enumerate(zip(starts, ends, strict=True)):
        for k in range(2):
            repeated = np.repeat(values[:, start:end, k], weight[start:end], axis=1)
            alone = statistics(summarise(repeated[:, :, None], 3).flat())
            for name in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha"):
                assert grouped.value(name, g * 2 + k) == pytest.approx(alone.value(name, 0),
                                                                       abs=1e-12)
            for pair in combinations(range(3), 2):
                assert grouped.value("cohen_kappa", g * 2 + k, pair) == pytest.approx(
                    alone.value("cohen_kappa", 0, pair), abs=1e-12)
    for k in range(2):
        repeated = np.repeat(values[:, :, k], weight, axis=1)
        assert per_variable.value("krippendorff_alpha", k) == pytest.approx(
            krippendorff_alpha(np.where(repeated < 0, NAN, repeated)), abs=1e-12)


def test_undefined_statistics_are_none_with_a_reason() -> None:
    # Every coder says "absent" on every unit: nothing varies.
    stat = statistics(summarise(np.zeros((3, 5, 1), dtype=int), 2).flat())
    assert stat.value("krippendorff_alpha", 0) is None
    assert stat.value("fleiss_kappa", 0) is None
    assert stat.value("cohen_kappa", 0, (0, 1)) is None
    assert stat.value("percent_agreement", 0) == 100.0
    assert stat.notes[0]["krippendorff_alpha"].startswith("no variation")
    assert stat.notes[0]["cohen_kappa"][(0, 1)].startswith("no variation")
    # Two coders who never rated the same unit; a third who rated nothing.
    values = np.array([[0, 1, -1, -1], [-1, -1, 1, 0], [-1, -1, -1, -1]])
    stat = statistics(summarise(values[:, :, None], 2).flat())
    assert stat.value("krippendorff_alpha", 0) is None
    assert stat.value("percent_agreement", 0) is None
    assert stat.notes[0]["krippendorff_alpha"] == "no unit has values from two coders"
    assert stat.notes[0]["fleiss_kappa"] == "no unit has values from all 3 coders"
    assert stat.notes[0]["cohen_kappa"][(0, 1)] == "the two coders have no unit in common"


def test_perfect_agreement_is_one_and_systematic_disagreement_is_negative() -> None:
    same = np.array([[0, 1, 1, 0, 1], [0, 1, 1, 0, 1]], dtype=float)
    assert krippendorff_alpha(same) == pytest.approx(1.0)
    assert cohen_kappa(same[0], same[1]) == pytest.approx(1.0)
    opposite = np.array([[0, 1, 0, 1], [1, 0, 1, 0]], dtype=float)
    assert cohen_kappa(opposite[0], opposite[1]) == pytest.approx(-1.0)
    assert krippendorff_alpha(opposite) < 0
