"""Report series for a filtering: the bad-rate curve (patent fig. 6) and the level mix (fig. 7).

Plain data, no plotting: each curve point says how much has been removed (count and
balance, with shares in ppm) and both bad-rate estimates of what is left, computed
exactly from running sums along the removal order.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from scoring.bad_rate import LevelMix, WeightBy, ppm_half_up
from scoring.exact_sums import ExactPrefixSums
from scoring.grading import PPM, LevelEdges

CURVE_STEPS = 100  # one point per 1% of assets removed, where the mode allows one


@dataclass(frozen=True)
class CurvePoint:
    """The pack after removing the first `removed_count` assets of the removal order."""

    removed_count: int
    removed_share_ppm: int
    removed_balance: int
    removed_balance_share_ppm: int
    level_based_ppm: int
    pd_based_ppm: int


class RemovalPath:
    """Running sums along a removal order, enough to rate the pack left after any prefix."""

    def __init__(
        self, level_rate_ppm: np.ndarray, pd_ppm: np.ndarray, balances: np.ndarray, weight_by: WeightBy
    ) -> None:
        """All columns already in removal order; weights are 1 per asset or the balance."""
        ones = np.ones_like(balances)
        weights = ones if WeightBy(weight_by) is WeightBy.COUNT else balances
        self.count = int(balances.size)
        self.balance = ExactPrefixSums(ones, balances)
        self.weight = self.balance if weights is balances else ExactPrefixSums(ones, weights)
        self.level_rate = ExactPrefixSums(level_rate_ppm, weights)
        self.pd = ExactPrefixSums(pd_ppm, weights)

    def kept_rate(self, sums: ExactPrefixSums, removed: int) -> Fraction:
        """Exact weighted mean rate (fraction of 1) of the assets left after removing `removed`."""
        kept_weight = self.weight.total - self.weight.exact_at(removed)
        return Fraction(sums.total - sums.exact_at(removed), kept_weight * PPM)

    def point(self, removed: int) -> CurvePoint:
        removed_balance = self.balance.exact_at(removed)
        return CurvePoint(
            removed_count=removed,
            removed_share_ppm=ppm_half_up(Fraction(removed, self.count)),
            removed_balance=removed_balance,
            removed_balance_share_ppm=ppm_half_up(Fraction(removed_balance, self.balance.total)),
            level_based_ppm=ppm_half_up(self.kept_rate(self.level_rate, removed)),
            pd_based_ppm=ppm_half_up(self.kept_rate(self.pd, removed)),
        )


def bad_rate_curve(path: RemovalPath, candidates: np.ndarray, chosen: int | None) -> tuple[CurvePoint, ...]:
    """Points at about every 1% of assets removed (the first allowed cut at or after each
    step), plus the chosen cut; `candidates` are the cuts the mode allows, ascending."""
    steps = (np.arange(CURVE_STEPS + 1, dtype=np.int64) * path.count + CURVE_STEPS - 1) // CURVE_STEPS
    picked = np.searchsorted(candidates, steps, side="left")
    positions = set(int(candidates[index]) for index in picked if index < candidates.size)
    if chosen is not None:
        positions.add(chosen)
    return tuple(path.point(position) for position in sorted(positions))


@dataclass(frozen=True)
class LevelMixRow:
    """One level of the pack before and after filtering."""

    level: int
    min_score: int
    max_score: int
    count_before: int
    count_after: int
    balance_before: int
    balance_after: int
    count_share_before_ppm: int
    count_share_after_ppm: int
    balance_share_before_ppm: int
    balance_share_after_ppm: int


def level_mix_rows(before: LevelMix, after: LevelMix, edges: LevelEdges) -> tuple[LevelMixRow, ...]:
    """Fig. 7 as rows: each level's count and balance (and shares) before and after."""
    shares = {
        (when, weight_by): mix.shares_ppm(weight_by)
        for when, mix in (("before", before), ("after", after))
        for weight_by in WeightBy
    }
    return tuple(
        LevelMixRow(
            level=index + 1,
            min_score=lowest,
            max_score=highest,
            count_before=before.counts[index],
            count_after=after.counts[index],
            balance_before=before.balances[index],
            balance_after=after.balances[index],
            count_share_before_ppm=shares["before", WeightBy.COUNT][index],
            count_share_after_ppm=shares["after", WeightBy.COUNT][index],
            balance_share_before_ppm=shares["before", WeightBy.BALANCE][index],
            balance_share_after_ppm=shares["after", WeightBy.BALANCE][index],
        )
        for index, (lowest, highest) in enumerate(edges.segments())
    )
