"""Pack bad rate (claim 6), level mix, and the exact sums underneath them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.bad_rate import (
    BadRate,
    WeightBy,
    estimate_pack,
    level_based_bad_rate,
    level_mix,
    pd_based_bad_rate,
    ppm_half_up,
    weighted_bad_rate,
)
from scoring.errors import ScoringValueError
from scoring.exact_sums import ExactPrefixSums, exact_dot, exact_group_sums, first_position_reaching
from scoring.grading import LevelEdges, LevelTable

THREE_LEVELS = LevelEdges((10, 20, 100))
PATENT_TABLE = LevelTable.from_rates([50_000, 70_000, 100_000], THREE_LEVELS)


@pytest.mark.parametrize(
    "weights",
    [
        [Fraction(2, 10), Fraction(3, 10), Fraction(5, 10)],
        [Decimal("0.2"), Decimal("0.3"), Decimal("0.5")],
        [2, 3, 5],
    ],
)
def test_patent_example_is_exactly_eight_point_one_percent(weights: list) -> None:
    rate = weighted_bad_rate([50_000, 70_000, 100_000], weights)
    assert rate.exact == Fraction(81, 1000)
    assert rate.ppm == 81_000


def test_float_weights_are_refused() -> None:
    with pytest.raises(ScoringValueError, match="exact"):
        weighted_bad_rate([50_000, 70_000, 100_000], [0.2, 0.3, 0.5])


def test_patent_example_from_a_pack_by_count_and_by_balance() -> None:
    levels = np.array([1, 1, 2, 2, 2, 3, 3, 3, 3, 3])
    balances = np.array([100] * 2 + [100] * 3 + [100] * 5)
    mix = level_mix(levels, balances, 3)
    assert mix.counts == (2, 3, 5) and mix.balances == (200, 300, 500)
    assert level_based_bad_rate(mix, PATENT_TABLE, WeightBy.COUNT).exact == Fraction(81, 1000)
    # By balance the heavy level-3 loan dominates: (5%*100 + 7%*100 + 10%*800) / 1000.
    heavy = np.array([50, 50, 40, 30, 30, 160, 160, 160, 160, 160])
    mix = level_mix(levels, heavy, 3)
    expected = Fraction(5 * 100 + 7 * 100 + 10 * 800, 100 * 1000)
    assert level_based_bad_rate(mix, PATENT_TABLE, WeightBy.BALANCE).exact == expected


def test_target_comparison_is_exact_not_rounded() -> None:
    rate = BadRate(Fraction(280_000, 6 * 1_000_000))  # 46666.67 ppm, displayed as 46667
    assert rate.ppm == 46_667
    assert rate.meets(46_667)
    assert not rate.meets(46_666)


def test_ppm_rounds_half_up() -> None:
    assert ppm_half_up(Fraction(1, 2_000_000)) == 1
    assert ppm_half_up(Fraction(1, 3_000_000)) == 0
    assert ppm_half_up(Fraction(81, 1000)) == 81_000


def test_pd_based_estimate_by_count_and_balance() -> None:
    pd_ppm = np.array([100_000, 300_000])
    balances = np.array([3, 1])
    assert pd_based_bad_rate(pd_ppm, balances, WeightBy.COUNT).exact == Fraction(2, 10)
    assert pd_based_bad_rate(pd_ppm, balances, WeightBy.BALANCE).exact == Fraction(600_000, 4 * 1_000_000)


def test_huge_balances_do_not_overflow() -> None:
    rng = np.random.default_rng(5)
    balances = rng.integers(2**60, 2**62, 5000, dtype=np.int64)
    pd_ppm = rng.integers(900_000, 1_000_000, 5000, dtype=np.int64)
    levels = rng.integers(1, 4, 5000)
    expected_pd = Fraction(sum(int(p) * int(b) for p, b in zip(pd_ppm, balances)), sum(map(int, balances)) * 1_000_000)
    assert pd_based_bad_rate(pd_ppm, balances, WeightBy.BALANCE).exact == expected_pd
    estimate = estimate_pack(levels, pd_ppm, balances, PATENT_TABLE, WeightBy.BALANCE)
    assert estimate.mix.balances[0] == sum(int(b) for b, level in zip(balances, levels) if level == 1)
    assert estimate.mix.total_balance > 2**63


def test_a_pack_with_a_level_lacking_a_rate_cannot_be_rated() -> None:
    table = LevelTable.from_rates([50_000, None, 100_000], THREE_LEVELS)
    mix = level_mix(np.array([1, 2]), np.array([1, 1]), 3)
    with pytest.raises(ScoringValueError, match="no historical bad rate"):
        level_based_bad_rate(mix, table, WeightBy.COUNT)


def test_level_shares_in_ppm() -> None:
    mix = level_mix(np.array([1, 2, 2, 3]), np.array([1, 1, 1, 5]), 3)
    assert mix.shares_ppm(WeightBy.COUNT) == (250_000, 500_000, 250_000)
    assert mix.shares_ppm(WeightBy.BALANCE) == (125_000, 250_000, 625_000)


big_weights = st.integers(0, 2**62)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(-1_000_000, 1_000_000), big_weights), min_size=1, max_size=60))
def test_exact_prefix_sums_equal_python_integer_sums(rows: list[tuple[int, int]]) -> None:
    coefficients = np.array([row[0] for row in rows], dtype=np.int64)
    weights = np.array([row[1] for row in rows], dtype=np.int64)
    prefix = ExactPrefixSums(coefficients, weights)
    expected = [0]
    for coefficient, weight in rows:
        expected.append(expected[-1] + coefficient * weight)
    assert prefix.exact_many(range(len(rows) + 1)) == expected
    assert prefix.total == expected[-1] == exact_dot(coefficients, weights)
    values, error = prefix.approximate()
    assert all(abs(float(value) - exact) <= bound + 1 for value, exact, bound in zip(values, expected, error))
    threshold = expected[len(rows) // 2]
    first = next(k for k, value in enumerate(expected) if value >= threshold)
    assert first_position_reaching(prefix, threshold, np.arange(len(rows) + 1)) == first


def test_exact_group_sums_beyond_int64() -> None:
    values = np.full(10, 2**62, dtype=np.int64)
    groups = np.array([0, 1] * 5)
    assert exact_group_sums(values, groups, 3) == [5 * 2**62, 5 * 2**62, 0]
