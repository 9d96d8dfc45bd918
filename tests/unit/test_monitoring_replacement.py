"""The rule check of an asset swap: pairs, the bad rate after the swap, the balance band."""

from __future__ import annotations

import pytest

from scoring.bad_rate import WeightBy
from scoring.errors import ScoringValueError
from scoring.grading import LevelEdges, LevelTable
from scoring.monitoring.replacement import Candidate, Holding, SwapProblem, evaluate_swap

# The patent's example: levels at 5%, 7%, 10% holding 2, 3 and 5 of 10 equal loans -> 8.1%.
TABLE = LevelTable.from_rates([50_000, 70_000, 100_000], LevelEdges((10, 20, 100)))
HOLDINGS = [Holding(f"L{i}", level, 10_000) for i, level in enumerate([1, 1, 2, 2, 2, 3, 3, 3, 3, 3])]


def swap(out, candidates, *, expected=81_000, weight_by=WeightBy.COUNT, holdings=HOLDINGS):
    return evaluate_swap(holdings, out, candidates, table=TABLE, expected_bad_rate_ppm=expected, weight_by=weight_by)


def test_replacing_a_level_3_loan_by_a_level_1_loan_lowers_the_bad_rate_and_is_accepted() -> None:
    # After: 3 x 5% + 3 x 7% + 4 x 10% = 76 / 10 -> 7.6%
    decision = swap(["L9"], [Candidate("N1", 1, 10_000)])
    assert decision.accepted and decision.problems == ()
    assert (decision.bad_rate_before_ppm, decision.bad_rate_after_ppm) == (81_000, 76_000)
    assert (decision.balance_out_minor, decision.balance_in_minor) == (10_000, 10_000)


def test_a_swap_that_lifts_the_bad_rate_above_the_expected_rate_is_refused() -> None:
    # After: 1 x 5% + 3 x 7% + 6 x 10% = 86 / 10 -> 8.6% > 8.1%
    decision = swap(["L0"], [Candidate("N1", 3, 10_000)])
    assert not decision.accepted and decision.bad_rate_after_ppm == 86_000
    assert decision.problems == (SwapProblem("", "bad_rate", "above_expected"),)
    # Exactly at the expected rate is allowed: swapping level 3 for level 3.
    assert swap(["L9"], [Candidate("N1", 3, 10_000)]).accepted


def test_by_balance_a_heavy_safe_substitute_counts_for_more() -> None:
    # By balance: L0 (level 1) out, a level 1 loan of 10,200 in: (5% x 20,200 + 7% x 30,000 + 10% x 50,000) / 100,200
    decision = swap(["L0"], [Candidate("N1", 1, 10_200)], weight_by=WeightBy.BALANCE)
    assert decision.accepted and decision.bad_rate_after_ppm == 80_938


@pytest.mark.parametrize(("balance_in", "accepted"), [(10_200, True), (10_201, False), (9_800, True), (9_799, False)])
def test_the_balance_in_must_stay_within_two_percent_of_the_balance_out(balance_in: int, accepted: bool) -> None:
    decision = swap(["L9"], [Candidate("N1", 3, balance_in)])
    assert decision.accepted is accepted
    assert (SwapProblem("", "balance", "outside_tolerance") in decision.problems) is not accepted


def test_every_broken_rule_is_reported_with_the_loan_and_field() -> None:
    decision = swap(
        ["L9", "L9", "NOPE"],
        [Candidate("L3", 2, 10_000), Candidate("N1", None, 10_000), Candidate("N2", 1, 10_000, "failed_verification"),
         Candidate("N2", 1, 10_000)],
    )
    assert not decision.accepted
    assert set(decision.problems) >= {
        SwapProblem("L9", "out_loan_ids", "duplicate"),
        SwapProblem("NOPE", "out_loan_ids", "not_held"),
        SwapProblem("L3", "candidates", "already_held"),
        SwapProblem("N1", "level", "not_scored"),
        SwapProblem("N2", "candidates", "failed_verification"),
        SwapProblem("N2", "candidates", "duplicate"),
        SwapProblem("", "pairs", "count_mismatch"),
    }


def test_a_candidate_in_a_level_without_history_cannot_enter() -> None:
    table = LevelTable.from_rates([50_000, None, 100_000], LevelEdges((10, 20, 100)))
    holdings = [Holding("L0", 1, 100), Holding("L1", 3, 100)]
    decision = evaluate_swap(holdings, ["L1"], [Candidate("N1", 2, 100)], table=table, expected_bad_rate_ppm=90_000,
                             weight_by=WeightBy.COUNT)
    assert SwapProblem("N1", "level", "no_bad_rate") in decision.problems and not decision.accepted


def test_an_empty_swap_and_a_product_without_holdings_are_not_swaps() -> None:
    assert SwapProblem("", "pairs", "empty") in swap([], []).problems
    with pytest.raises(ScoringValueError):
        swap(["L0"], [Candidate("N1", 1, 10)], holdings=[])
