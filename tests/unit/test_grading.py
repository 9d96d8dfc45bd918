"""Grading (claim 5): score segments to levels, and each level's historical bad rate."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.errors import ScoringError, ScoringValueError
from scoring.grading import DEFAULT_EDGES, LevelEdges, LevelTable, grade, level_table_from_history


def test_default_levels_are_ten_segments_of_ten_scores_riskiest_first() -> None:
    scores = np.array([1, 10, 11, 20, 21, 55, 90, 91, 100])
    assert grade(scores).tolist() == [1, 1, 2, 2, 3, 6, 9, 10, 10]
    assert DEFAULT_EDGES.segments()[0] == (1, 10)
    assert DEFAULT_EDGES.segments()[-1] == (91, 100)
    assert DEFAULT_EDGES.level_count == 10


def test_custom_edges_cover_one_to_one_hundred() -> None:
    edges = LevelEdges((30, 60, 100))
    assert edges.segments() == ((1, 30), (31, 60), (61, 100))
    assert grade([1, 30, 31, 60, 61, 100], edges).tolist() == [1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize("edges", [(), (10, 10, 100), (20, 10, 100), (10, 20, 99), (0, 100), (10.0, 100), (True, 100)])
def test_invalid_edges_are_refused(edges: tuple) -> None:
    with pytest.raises(ScoringValueError):
        LevelEdges(edges)


@pytest.mark.parametrize("scores", [[0, 5], [5, 101], [5.0, 6.0], [[1, 2]]])
def test_scores_must_be_integers_from_one_to_one_hundred(scores: list) -> None:
    with pytest.raises(ScoringValueError) as raised:
        grade(scores)
    assert isinstance(raised.value, ScoringError) and isinstance(raised.value, ValueError)


def test_patent_example_level_bad_rate_is_ten_percent() -> None:
    # 1,000 historical loans scored into level 1, 100 of them defaulted -> 10%.
    scores = np.full(1000, 5)
    defaulted = np.zeros(1000, dtype=bool)
    defaulted[:100] = True
    table = level_table_from_history(scores, defaulted)
    assert table.bad_rate_ppm[0] == 100_000
    assert table.historical_total[0] == 1000 and table.historical_defaults[0] == 100


def test_level_bad_rates_round_half_up_to_ppm_and_empty_levels_have_none() -> None:
    edges = LevelEdges((25, 50, 75, 100))
    scores = [1, 1, 1] + [30] * 3 + [60] * 2_000_000
    defaulted = [1, 0, 0] + [1, 1, 0] + [1] + [0] * 1_999_999
    table = level_table_from_history(np.array(scores), np.array(defaulted), edges)
    assert table.bad_rate_ppm == (333_333, 666_667, 1, None)  # 1/3, 2/3, 0.5 ppm -> 1, empty
    assert table.rows()[3] == {"level": 4, "min_score": 76, "max_score": 100, "count": 0, "defaults": 0,
                               "bad_rate_ppm": None}


def test_a_level_without_history_cannot_rate_a_pack_that_holds_it() -> None:
    table = LevelTable.from_rates([100_000, None], LevelEdges((50, 100)))
    assert table.rates_of_levels(np.array([1, 1])).tolist() == [100_000, 100_000]
    with pytest.raises(ScoringValueError, match=r"levels \[2\]"):
        table.rates_of_levels(np.array([1, 2]))


@pytest.mark.parametrize(
    ("scores", "defaulted"), [([5, 6], [1, 2]), ([5, 6], [1]), ([5, 6], [0.5, 1.0])]
)
def test_history_needs_one_boolean_flag_per_score(scores: list, defaulted: list) -> None:
    with pytest.raises(ScoringValueError):
        level_table_from_history(np.array(scores), np.array(defaulted))


@pytest.mark.parametrize("rates", [[1] * 9, [-1] + [0] * 9, [1_000_001] + [0] * 9, [0.1] + [0] * 9])
def test_level_table_needs_one_ppm_rate_per_level(rates: list) -> None:
    with pytest.raises(ScoringValueError):
        LevelTable.from_rates(rates)
