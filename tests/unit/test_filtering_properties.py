"""Properties of both filter modes against a brute-force reference built from Fractions.

The reference re-derives each mode's removal order and allowed cuts from the rules
alone (riskiest first; per level, i/size keys) and rates every cut exactly.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.bad_rate import WeightBy
from scoring.errors import UnreachableTargetError
from scoring.filtering import FilterMode, filter_to_expected_bad_rate
from scoring.grading import LevelEdges, LevelTable

EDGES = LevelEdges((20, 40, 60, 80, 100))


@st.composite
def packs(draw: st.DrawFn) -> list[tuple[str, int, int, int]]:
    count = draw(st.integers(1, 30))
    # Narrow value sets make ties in score, PD and keys common.
    scores = st.integers(1, 100) | st.sampled_from([10, 11, 50, 90])
    pds = st.integers(0, 1_000_000) | st.sampled_from([0, 50_000, 50_001, 999_999])
    balances = st.integers(1, 10**12) | st.sampled_from([1, 2**40, 2**55])
    ids = draw(st.lists(st.text("abc", min_size=1, max_size=4), min_size=count, max_size=count, unique=True))
    return [(ids[i], draw(scores), draw(pds), draw(balances)) for i in range(count)]


tables = st.lists(st.integers(0, 1_000_000) | st.sampled_from([0, 100_000]), min_size=5, max_size=5).map(
    lambda rates: LevelTable.from_rates(rates, EDGES)
)


def level_of(score: int) -> int:
    return 1 + (score - 1) // 20


def reference_order_and_cuts(pack: list[tuple[str, int, int, int]], mode: FilterMode) -> tuple[list[int], list[int]]:
    risk = sorted(range(len(pack)), key=lambda i: (pack[i][1], -pack[i][2], pack[i][0]))
    if mode is FilterMode.GLOBAL:
        return risk, list(range(len(pack)))
    by_level: dict[int, list[int]] = {}
    for i in risk:
        by_level.setdefault(level_of(pack[i][1]), []).append(i)
    keyed = sorted(
        (Fraction(rank, len(members)), level, i)
        for level, members in by_level.items()
        for rank, i in enumerate(members)
    )
    order = [i for _, _, i in keyed]
    cuts = [0] + [k for k in range(1, len(order)) if keyed[k][0] != keyed[k - 1][0]]
    return order, cuts


def judged_rate(pack, kept, table, mode, weight_by) -> Fraction:  # noqa: ANN001
    def weight(i: int) -> int:
        return 1 if weight_by is WeightBy.COUNT else pack[i][3]

    def rate(i: int) -> int:
        return table.bad_rate_ppm[level_of(pack[i][1]) - 1] if mode is FilterMode.GLOBAL else pack[i][2]

    return Fraction(sum(rate(i) * weight(i) for i in kept), sum(weight(i) for i in kept) * 1_000_000)


def as_columns(pack: list[tuple[str, int, int, int]]) -> dict[str, np.ndarray]:
    return {
        "loan_id": np.array([row[0] for row in pack]),
        "score": np.array([row[1] for row in pack], dtype=np.int64),
        "pd_ppm": np.array([row[2] for row in pack], dtype=np.int64),
        "balance": np.array([row[3] for row in pack], dtype=np.int64),
    }


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pack=packs(),
    table=tables,
    target=st.integers(0, 1_000_000),
    mode=st.sampled_from(list(FilterMode)),
    weight_by=st.sampled_from(list(WeightBy)),
    seed=st.integers(0, 2**32 - 1),
)
def test_plan_is_the_first_allowed_cut_that_meets_the_target(  # noqa: ANN001
    pack, table, target, mode, weight_by, seed
) -> None:
    order, cuts = reference_order_and_cuts(pack, mode)
    rates = [judged_rate(pack, order[cut:], table, mode, weight_by) for cut in cuts]
    goal = Fraction(target, 1_000_000)
    meeting = [cut for cut, rate in zip(cuts, rates) if rate <= goal]

    try:
        plan = filter_to_expected_bad_rate(as_columns(pack), table, target, mode, weight_by)
    except UnreachableTargetError as error:
        assert not meeting
        best = min(rates)
        assert error.best_bad_rate_ppm == math.floor(best * 1_000_000 + Fraction(1, 2))
        assert error.best_removed_count == cuts[rates.index(best)]
        return

    assert meeting, "the plan claims a cut the reference says misses the target"
    cut = meeting[0]
    assert [pack[i][0] for i in plan.removed_indices] == [pack[i][0] for i in order[:cut]]
    # Rate after filtering meets the target, exactly.
    kept = plan.kept_indices.tolist()
    assert judged_rate(pack, kept, table, mode, weight_by) <= goal
    assert plan.judged_rate(plan.after).exact == judged_rate(pack, kept, table, mode, weight_by)
    # One step less (the previous allowed cut; for global, one asset fewer) misses it.
    position = cuts.index(cut)
    if position > 0:
        assert rates[position - 1] > goal
    else:
        assert plan.removed_indices.size == 0 and rates[0] <= goal  # already met: nothing removed
    # The order of the input rows does not matter.
    shuffled = [pack[i] for i in np.random.default_rng(seed).permutation(len(pack))]
    again = filter_to_expected_bad_rate(as_columns(shuffled), table, target, mode, weight_by)
    assert [shuffled[i][0] for i in again.removed_indices] == [pack[i][0] for i in plan.removed_indices]
    assert again.after == plan.after and again.curve == plan.curve


@settings(max_examples=60, deadline=None)
@given(pack=packs(), table=tables, mode=st.sampled_from(list(FilterMode)), weight_by=st.sampled_from(list(WeightBy)))
def test_nothing_is_removed_when_the_pack_already_meets_the_target(  # noqa: ANN001
    pack, table, mode, weight_by
) -> None:
    current = judged_rate(pack, range(len(pack)), table, mode, weight_by)
    target = math.ceil(current * 1_000_000)
    plan = filter_to_expected_bad_rate(as_columns(pack), table, target, mode, weight_by)
    assert plan.removed_indices.size == 0
    assert plan.after == plan.before


@pytest.mark.parametrize("mode", list(FilterMode))
def test_curve_starts_at_the_pack_and_ends_at_the_chosen_cut_or_beyond(mode: FilterMode) -> None:
    rng = np.random.default_rng(4)
    count = 500
    pack = [
        (f"L{i:04d}", int(rng.integers(1, 101)), int(rng.integers(0, 10**6)), int(rng.integers(1, 10**9)))
        for i in range(count)
    ]
    table = LevelTable.from_rates([400_000, 200_000, 100_000, 50_000, 10_000], EDGES)
    plan = filter_to_expected_bad_rate(as_columns(pack), table, 60_000 if mode is FilterMode.GLOBAL else 300_000, mode)
    first, removed = plan.curve[0], [point.removed_count for point in plan.curve]
    assert first.removed_count == 0
    assert first.level_based_ppm == plan.before.level_based.ppm and first.pd_based_ppm == plan.before.pd_based.ppm
    assert removed == sorted(set(removed)) and plan.removed_count in removed and max(removed) < count
    assert 90 <= len(plan.curve) <= 102
