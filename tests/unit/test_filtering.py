"""Filtering to an expected bad rate: hand-built packs whose answers are worked out by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from scoring.bad_rate import WeightBy
from scoring.errors import ScoringValueError, UnreachableTargetError
from scoring.filtering import Estimate, FilterMode, filter_to_expected_bad_rate
from scoring.grading import LevelEdges, LevelTable

# Three levels: scores 1-33 at 30%, 34-66 at 10%, 67-100 at 2%.
TABLE = LevelTable.from_rates([300_000, 100_000, 20_000], LevelEdges((33, 66, 100)))

# loan, score, pd_ppm, balance
EIGHT = [
    ("A", 10, 400_000, 100),
    ("B", 20, 300_000, 100),
    ("C", 40, 150_000, 1000),
    ("D", 50, 100_000, 1000),
    ("E", 70, 30_000, 500),
    ("F", 80, 20_000, 500),
    ("G", 90, 10_000, 500),
    ("H", 95, 5_000, 500),
]


def columns(rows: list[tuple[str, int, int, int]]) -> dict[str, np.ndarray]:
    return {
        "loan_id": np.array([row[0] for row in rows]),
        "score": np.array([row[1] for row in rows]),
        "pd_ppm": np.array([row[2] for row in rows]),
        "balance": np.array([row[3] for row in rows]),
    }


def removed_ids(plan, rows) -> list[str]:  # noqa: ANN001
    return [rows[index][0] for index in plan.removed_indices]


@pytest.mark.parametrize(
    ("target", "weight_by", "expected_removed"),
    [
        # by count: 11% before; without A 82,857 ppm; without A, B 46,666.67 ppm; then 36,000 ppm.
        (50_000, WeightBy.COUNT, ["A", "B"]),
        (46_667, WeightBy.COUNT, ["A", "B"]),
        (46_666, WeightBy.COUNT, ["A", "B", "C"]),  # 46,666.67 does not meet 46,666: exact, not rounded
        # by balance: 71,428.6 ppm before; 65,853.7 ; 60,000 ; 46,666.67 after removing C.
        (50_000, WeightBy.BALANCE, ["A", "B", "C"]),
        (60_000, WeightBy.BALANCE, ["A", "B"]),
    ],
)
def test_global_mode_removes_the_shortest_riskiest_prefix(
    target: int, weight_by: WeightBy, expected_removed: list[str]
) -> None:
    plan = filter_to_expected_bad_rate(columns(EIGHT), TABLE, target, FilterMode.GLOBAL, weight_by)
    assert removed_ids(plan, EIGHT) == expected_removed
    assert plan.judged_by is Estimate.LEVEL_BASED
    assert plan.after.level_based.meets(target)
    assert sorted(plan.kept_indices.tolist() + plan.removed_indices.tolist()) == list(range(8))


def test_global_plan_reports_before_after_mix_and_curve() -> None:
    plan = filter_to_expected_bad_rate(columns(EIGHT), TABLE, 50_000, FilterMode.GLOBAL, WeightBy.COUNT)
    assert plan.before.level_based.exact == Fraction(110, 1000)
    assert plan.after.level_based.exact == Fraction(280_000, 6_000_000)
    assert plan.before.mix.counts == (2, 2, 4) and plan.after.mix.counts == (0, 2, 4)
    assert plan.share_removed_ppm == 250_000 and plan.removed_balance == 200
    assert plan.before.pd_based.exact == Fraction(1_015_000, 8_000_000)
    assert [row.count_after for row in plan.level_mix] == [0, 2, 4]
    assert plan.level_mix[0].balance_share_before_ppm == round(200 / 4200 * 1_000_000)
    by_removed = {point.removed_count: point for point in plan.curve}
    assert by_removed[0].level_based_ppm == 110_000
    assert by_removed[1].level_based_ppm == 82_857
    assert by_removed[2].level_based_ppm == 46_667 and by_removed[2].removed_share_ppm == 250_000
    assert max(by_removed) == 7  # never rates an empty pack


def test_risk_order_breaks_ties_by_higher_pd_then_loan_id() -> None:
    rows = [("b", 10, 5, 1), ("a", 10, 5, 1), ("c", 10, 9, 1), ("z", 90, 0, 1)]
    table = LevelTable.from_rates([900_000, 0], LevelEdges((50, 100)))
    plan = filter_to_expected_bad_rate(columns(rows), table, 0, FilterMode.GLOBAL, WeightBy.COUNT)
    assert removed_ids(plan, rows) == ["c", "a", "b"]


def test_nothing_is_removed_when_the_target_already_holds() -> None:
    for mode in FilterMode:
        plan = filter_to_expected_bad_rate(columns(EIGHT), TABLE, 200_000, mode, WeightBy.COUNT)
        assert plan.removed_indices.size == 0 and plan.kept_indices.tolist() == list(range(8))
        assert plan.after == plan.before


def test_global_unreachable_target_reports_the_best_cut() -> None:
    with pytest.raises(UnreachableTargetError) as raised:
        filter_to_expected_bad_rate(columns(EIGHT), TABLE, 19_999, FilterMode.GLOBAL, WeightBy.COUNT)
    error = raised.value
    assert isinstance(error, ScoringValueError)
    # Only level-3 assets left (2%) is the best; it is first reached after removing A-D.
    assert (error.best_bad_rate_ppm, error.best_removed_count, error.best_share_removed_ppm) == (20_000, 4, 500_000)
    assert filter_to_expected_bad_rate(columns(EIGHT), TABLE, 20_000, "global", "count").removed_indices.size == 4


# Per-level: two levels. Level 1 (four assets) keys 0, 1/4, 1/2, 3/4; level 2 (two) keys 0, 1/2.
# Removal order by key: {L1 r0, L2 r0}, {L1 r1}, {L1 r2, L2 r1}, {L1 r3}; cuts after 0, 2, 3, 5.
TWO_LEVELS = LevelTable.from_rates([200_000, 50_000], LevelEdges((50, 100)))
SIX = [
    ("p1", 5, 400_000, 10),
    ("p2", 15, 300_000, 10),
    ("p3", 25, 200_000, 10),
    ("p4", 35, 100_000, 10),
    ("q1", 60, 200_000, 10),
    ("q2", 90, 50_000, 10),
]


@pytest.mark.parametrize(
    ("target", "expected_removed", "share"),
    [
        # PD mean 208,333 before; 162,500 after the first cut; 116,667 after the second; 100,000 after the third.
        (170_000, ["p1", "q1"], Fraction(1, 4)),
        (162_500, ["p1", "q1"], Fraction(1, 4)),
        (150_000, ["p1", "q1", "p2"], Fraction(1, 2)),
        (100_000, ["p1", "q1", "p2", "p3", "q2"], Fraction(3, 4)),
    ],
)
def test_per_level_mode_screens_the_same_share_of_every_level(
    target: int, expected_removed: list[str], share: Fraction
) -> None:
    plan = filter_to_expected_bad_rate(columns(SIX), TWO_LEVELS, target, FilterMode.PER_LEVEL, WeightBy.COUNT)
    assert removed_ids(plan, SIX) == expected_removed
    assert plan.judged_by is Estimate.PD_BASED and plan.after.pd_based.meets(target)
    assert plan.screening_share == share
    # ceil(share x size) assets leave each level.
    assert [before - after for before, after in zip(plan.before.mix.counts, plan.after.mix.counts)] == [
        -(-share.numerator * 4 // share.denominator),
        -(-share.numerator * 2 // share.denominator),
    ]


def test_per_level_unreachable_target_reports_the_best_cut() -> None:
    with pytest.raises(UnreachableTargetError) as raised:
        filter_to_expected_bad_rate(columns(SIX), TWO_LEVELS, 99_999, FilterMode.PER_LEVEL, WeightBy.COUNT)
    assert (raised.value.best_bad_rate_ppm, raised.value.best_removed_count) == (100_000, 5)


def test_equal_shares_leave_the_level_based_estimate_unchanged_so_per_level_judges_by_pd() -> None:
    rows = [(f"a{i}", 10 + i, 400_000 - i * 100_000, 1) for i in range(4)] + [
        (f"b{i}", 60 + i, 100_000 - i * 20_000, 1) for i in range(4)
    ]
    # PD mean 160,000 before; the first cut (a0, b0) leaves 130,000 with three assets in each level.
    plan = filter_to_expected_bad_rate(columns(rows), TWO_LEVELS, 150_000, FilterMode.PER_LEVEL, WeightBy.COUNT)
    assert plan.removed_indices.size == 2 and plan.after.mix.counts == (3, 3)
    assert plan.after.level_based == plan.before.level_based
    assert plan.after.pd_based.exact < plan.before.pd_based.exact


def test_dataframe_input_and_input_validation() -> None:
    frame = pd.DataFrame(columns(EIGHT))
    plan = filter_to_expected_bad_rate(frame, TABLE, 50_000, "global", "count")
    assert removed_ids(plan, EIGHT) == ["A", "B"]
    for bad_target in (-1, 1_000_001, 0.05, True):
        with pytest.raises(ScoringValueError):
            filter_to_expected_bad_rate(frame, TABLE, bad_target)
    broken = columns(EIGHT)
    broken["balance"] = broken["balance"] * 0
    with pytest.raises(ScoringValueError, match="balance"):
        filter_to_expected_bad_rate(broken, TABLE, 50_000)
    with pytest.raises(ScoringValueError, match="columns"):
        filter_to_expected_bad_rate({"score": [1]}, TABLE, 50_000)
    with pytest.raises(ValueError):
        filter_to_expected_bad_rate(frame, TABLE, 50_000, mode="sideways")


def test_duplicate_loan_ids_that_would_make_the_order_ambiguous_are_refused() -> None:
    rows = [("x", 10, 5, 1), ("x", 10, 5, 2), ("y", 90, 0, 1)]
    with pytest.raises(ScoringValueError, match="more than once"):
        filter_to_expected_bad_rate(columns(rows), TABLE, 0, FilterMode.GLOBAL, WeightBy.COUNT)


def test_large_balances_filter_exactly() -> None:
    rng = np.random.default_rng(9)
    count = 3000
    rows = [
        (f"L{i:05d}", int(rng.integers(1, 101)), int(rng.integers(800_000, 1_000_000)), int(rng.integers(2**50, 2**52)))
        for i in range(count)
    ]
    plan = filter_to_expected_bad_rate(columns(rows), TABLE, 60_000, FilterMode.GLOBAL, WeightBy.BALANCE)
    rates = {1: 300_000, 2: 100_000, 3: 20_000}

    def level(score: int) -> int:
        return 1 if score <= 33 else 2 if score <= 66 else 3

    order = sorted(range(count), key=lambda i: (rows[i][1], -rows[i][2], rows[i][0]))

    def kept_rate(removed: int) -> Fraction:
        kept = order[removed:]
        return Fraction(sum(rates[level(rows[i][1])] * rows[i][3] for i in kept), sum(rows[i][3] for i in kept) * 10**6)

    cut = plan.removed_indices.size
    assert kept_rate(cut) <= Fraction(60_000, 10**6) < kept_rate(cut - 1)
    assert plan.after.level_based.exact == kept_rate(cut)
    pd_total = sum(row[2] * row[3] for row in rows)
    assert plan.before.pd_based.exact == Fraction(pd_total, sum(row[3] for row in rows) * 10**6)
    assert pd_total > 2**63  # the sum an int64 would have overflowed
