"""Backtest of predicted against realised defaults, on small hand-computed cases."""

from __future__ import annotations

import math

import pytest

from scoring.errors import ScoringValueError
from scoring.monitoring.backtest import Exposure, backtest


def exposure(loan_id: str, pd_ppm: int, *, vintage: str = "2025-07", defaulted: int | None = None,
             prepaid: int | None = None, entered: int = 0) -> Exposure:
    return Exposure(loan_id, vintage, pd_ppm, 10_000, defaulted, prepaid, entered)


def test_half_a_horizon_censoring_and_late_entry_by_hand() -> None:
    # PD 19% a year; after 6 of 12 cycles 1 - 0.81^(6/12) = 1 - 0.9 = 0.1.
    # Prepaid at cycle 3, or entered at cycle 3: observed 3 cycles, 1 - 0.81^(3/12) = 0.0513167.
    # expected = 0.1 + 0.1 + 2 x 0.0513167 = 0.3026334; variance = 2 x 0.09 + 2 x 0.0513167 x 0.9486833 = 0.2773666
    # z = (1 - 0.3026334) / sqrt(0.2773666) = 1.32414 -> in line
    exposures = [
        exposure("A", 190_000, defaulted=4),  # a default does not stop the clock: observed all 6 cycles
        exposure("B", 190_000),
        exposure("C", 190_000, prepaid=3),
        exposure("D", 190_000, entered=3),
    ]
    (row,) = backtest(exposures, cycles_elapsed=6, group_by="all")
    assert row.group == "all" and row.assets == 4 and row.actual_defaults == 1
    assert row.expected_defaults == pytest.approx(0.3026334, abs=1e-7)
    assert row.z_score == pytest.approx(1.32414, abs=1e-5)
    assert row.predicted_ppm == 75_658 and row.realised_ppm == 250_000
    assert row.verdict == "in_line"


def test_far_more_defaults_than_predicted_is_worse_and_far_fewer_is_better() -> None:
    # 100 loans at 1% over a full horizon: expected 1, variance 0.99; 10 defaults -> z = 9 / 0.995 = 9.05.
    worse = [exposure(f"W{i}", 10_000, defaulted=5 if i < 10 else None) for i in range(100)]
    (row,) = backtest(worse, cycles_elapsed=12)
    assert row.z_score == pytest.approx(9 / math.sqrt(0.99)) and row.verdict == "worse"
    # 100 loans at 50%: expected 50, variance 25; 30 defaults -> z = -20 / 5 = -4.
    better = [exposure(f"G{i}", 500_000, defaulted=2 if i < 30 else None) for i in range(100)]
    (row,) = backtest(better, cycles_elapsed=12)
    assert row.z_score == pytest.approx(-4.0) and row.verdict == "better"


def test_defaults_after_the_window_or_after_a_prepayment_do_not_count() -> None:
    exposures = [exposure("A", 100_000, defaulted=9), exposure("B", 100_000, prepaid=2, defaulted=5)]
    (row,) = backtest(exposures, cycles_elapsed=6, group_by="all")
    assert row.actual_defaults == 0


def test_rows_per_vintage_are_sorted_and_add_up_to_the_whole() -> None:
    exposures = [exposure("A", 50_000, vintage="2025-08"), exposure("B", 80_000, vintage="2025-07", defaulted=1),
                 exposure("C", 20_000, vintage="2025-08")]
    rows = backtest(exposures, cycles_elapsed=12)
    assert [r.group for r in rows] == ["2025-07", "2025-08"]
    assert [r.assets for r in rows] == [1, 2] and [r.actual_defaults for r in rows] == [1, 0]
    (whole,) = backtest(exposures, cycles_elapsed=12, group_by="all")
    assert whole.expected_defaults == pytest.approx(0.15)  # a full horizon: the PDs themselves


def test_nothing_at_risk_yet_gives_z_zero_and_an_unpredicted_default_is_infinitely_worse() -> None:
    (row,) = backtest([exposure("A", 100_000, entered=6)], cycles_elapsed=6)
    assert row.expected_defaults == 0 and row.z_score == 0 and row.verdict == "in_line"
    (row,) = backtest([exposure("A", 0, defaulted=3)], cycles_elapsed=6)
    assert row.z_score == math.inf and row.verdict == "worse"


def test_inconsistent_exposures_are_refused() -> None:
    with pytest.raises(ScoringValueError, match="'A'"):
        backtest([exposure("A", 100_000, defaulted=1, entered=2)], cycles_elapsed=6)
    with pytest.raises(ScoringValueError, match="group_by"):
        backtest([exposure("A", 100_000)], cycles_elapsed=6, group_by="product")
