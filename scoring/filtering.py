"""Filtering a pack down to an expected bad rate (patent claim 1, both modes).

`filter_to_expected_bad_rate` computes a plan (which assets to keep and remove); it
writes nothing. Both modes remove the shortest prefix of a fixed removal order that
brings the judged bad rate to or below the target, keeping at least one asset; if
the target already holds nothing is removed, and if no allowed cut reaches it,
`UnreachableTargetError` reports the best rate the mode can reach and at what cut.

- global: the whole pack riskiest first (score ascending, PD descending, loan id
  ascending), judged by the level-based bad rate (claim 6). Minimal: every shorter
  prefix misses the target.

- per-level: the same riskiest share s is screened out of every level, ceil(s x size)
  assets per level, riskiest first within the level. Judged by the PD-based estimate:
  removing equal shares keeps the level mix (almost) unchanged, so the level-based
  estimate barely moves, while removing each level's riskiest assets lowers its mean
  PD. The cut only changes when s crosses some i/size of a level, so the removal order
  is "all assets by i/size of their level" and the allowed cuts are where that key
  changes: the finest grid the mode allows. The plan takes the smallest such s.
  Chosen over solving per-level cuts that remove the least balance because that is a
  knapsack-like optimisation which concentrates removals wherever PD is highest and may
  leave levels unscreened, the very thing this mode exists to avoid; equal shares are
  also what an investor can read off the report ("the riskiest 12% of every level").

Decisions use exact integers: running sums are exact limb sums (see
`scoring.exact_sums`), floats only screen candidates. O(n log n) for the sorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

import numpy as np

from scoring.bad_rate import PackEstimate, WeightBy, estimate_pack, ppm_half_up
from scoring.curves import CurvePoint, LevelMixRow, RemovalPath, bad_rate_curve, level_mix_rows
from scoring.errors import ScoringValueError, UnreachableTargetError
from scoring.exact_sums import ExactPrefixSums, first_position_reaching
from scoring.grading import PPM, LevelTable
from scoring.pack_assets import PackAssets

# Shares i/size compare exactly as float64 while distinct ones differ by more than the
# rounding: 1/size^2 > 2^-53, i.e. up to 2^26 assets.
_PER_LEVEL_MAX_ASSETS = 1 << 26


class FilterMode(str, Enum):
    GLOBAL = "global"
    PER_LEVEL = "per_level"


class Estimate(str, Enum):
    """Which bad-rate estimate a mode is judged by."""

    LEVEL_BASED = "level_based"
    PD_BASED = "pd_based"


@dataclass(frozen=True, eq=False)
class FilterPlan:
    """What to keep and remove to meet the expected bad rate, and the numbers behind it."""

    mode: FilterMode
    weight_by: WeightBy
    judged_by: Estimate
    expected_bad_rate_ppm: int
    kept_indices: np.ndarray  # input positions, ascending
    removed_indices: np.ndarray  # input positions, in removal order (riskiest first)
    screening_share: Fraction | None  # per-level: ceil(share x level size) removed from each level
    before: PackEstimate
    after: PackEstimate
    curve: tuple[CurvePoint, ...]
    level_mix: tuple[LevelMixRow, ...]

    @property
    def removed_count(self) -> int:
        return int(self.removed_indices.size)

    @property
    def share_removed_ppm(self) -> int:
        """Share of the assets removed, by count."""
        total = self.removed_indices.size + self.kept_indices.size
        return ppm_half_up(Fraction(int(self.removed_indices.size), int(total)))

    @property
    def removed_balance(self) -> int:
        return self.before.mix.total_balance - self.after.mix.total_balance

    def judged_rate(self, estimate: PackEstimate) -> Any:
        return estimate.level_based if self.judged_by is Estimate.LEVEL_BASED else estimate.pd_based


def filter_to_expected_bad_rate(
    assets: PackAssets | Any,
    level_table: LevelTable,
    expected_bad_rate_ppm: int,
    mode: FilterMode | str = FilterMode.GLOBAL,
    weight_by: WeightBy | str = WeightBy.BALANCE,
) -> FilterPlan:
    """Plan the minimal removal (for the mode) that brings the pack to the expected bad rate.

    `assets`: PackAssets, or columns loan_id, score, pd_ppm, balance (mapping or DataFrame).
    """
    pack = PackAssets.coerce(assets)
    mode, weight_by = FilterMode(mode), WeightBy(weight_by)
    if isinstance(expected_bad_rate_ppm, bool) or not isinstance(expected_bad_rate_ppm, (int, np.integer)):
        raise ScoringValueError(f"expected bad rate must be an integer ppm, got {expected_bad_rate_ppm!r}")
    target = int(expected_bad_rate_ppm)
    if not 0 <= target <= PPM:
        raise ScoringValueError(f"expected bad rate must lie in 0..{PPM} ppm, got {target}")

    levels = pack.levels(level_table.edges)
    level_rates = level_table.rates_of_levels(levels)
    if mode is FilterMode.GLOBAL:
        removal_order, candidates, shares = pack.risk_order, np.arange(len(pack), dtype=np.int64), None
        judged_by, judged_rates = Estimate.LEVEL_BASED, level_rates
    else:
        removal_order, candidates, shares = _per_level_removal_order(pack.risk_order, levels[pack.risk_order])
        judged_by, judged_rates = Estimate.PD_BASED, pack.pd_ppm

    weights = pack.balance if weight_by is WeightBy.BALANCE else np.ones(len(pack), dtype=np.int64)
    ordered_weights = weights[removal_order]
    # Kept set meets the target iff sum over it of (rate - target) x weight <= 0, i.e. iff the
    # removed prefix's sum reaches the total.
    excess = ExactPrefixSums(judged_rates[removal_order] - target, ordered_weights)
    removed_count = first_position_reaching(excess, excess.total, candidates)
    path = RemovalPath(level_rates[removal_order], pack.pd_ppm[removal_order], pack.balance[removal_order], weight_by)
    judged_path = path.level_rate if judged_by is Estimate.LEVEL_BASED else path.pd
    if removed_count is None:
        best_removed, best_rate = _best_reachable(path, judged_path, candidates)
        raise UnreachableTargetError(
            f"{mode.value} filtering cannot bring the {judged_by.value} bad rate to {target} ppm: "
            f"the best it reaches is {ppm_half_up(best_rate)} ppm after removing {best_removed} of {len(pack)} assets",
            expected_bad_rate_ppm=target,
            best_bad_rate_ppm=ppm_half_up(best_rate),
            best_removed_count=best_removed,
            best_share_removed_ppm=ppm_half_up(Fraction(best_removed, len(pack))),
        )

    removed = removal_order[:removed_count].copy()
    kept_mask = np.ones(len(pack), dtype=bool)
    kept_mask[removed] = False
    kept = np.flatnonzero(kept_mask)
    before = estimate_pack(levels, pack.pd_ppm, pack.balance, level_table, weight_by)
    after = estimate_pack(levels[kept], pack.pd_ppm[kept], pack.balance[kept], level_table, weight_by)
    for array in (kept, removed):
        array.flags.writeable = False
    return FilterPlan(
        mode=mode,
        weight_by=weight_by,
        judged_by=judged_by,
        expected_bad_rate_ppm=target,
        kept_indices=kept,
        removed_indices=removed,
        screening_share=None if shares is None else shares[removed_count],
        before=before,
        after=after,
        curve=bad_rate_curve(path, candidates, removed_count),
        level_mix=level_mix_rows(before.mix, after.mix, level_table.edges),
    )


class _ShareAt:
    """The per-level screening share s of each cut, as an exact Fraction, computed on demand."""

    def __init__(self, ranks: np.ndarray, sizes: np.ndarray) -> None:
        self._ranks, self._sizes = ranks, sizes

    def __getitem__(self, removed_count: int) -> Fraction:
        # Removing the first k assets is the cut "ceil(s x size) per level" for s = the key
        # i/size of the next asset in line (for k = 0 that key is 0: nothing removed).
        return Fraction(int(self._ranks[removed_count]), int(self._sizes[removed_count]))


def _per_level_removal_order(
    risk_order: np.ndarray, ordered_levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, _ShareAt]:
    """Removal order, allowed cuts and their shares for the per-level mode.

    `ordered_levels` is each asset's level in risk order (non-decreasing). An asset of
    within-level rank i (0 = riskiest) in a level of `size` assets is removed once
    ceil(s x size) > i, i.e. once s > i/size: so assets leave in order of i/size (ties:
    riskier level first), and a cut is allowed only between different keys.
    """
    count = risk_order.size
    if count > _PER_LEVEL_MAX_ASSETS:
        raise ScoringValueError(f"per-level filtering supports up to {_PER_LEVEL_MAX_ASSETS} assets")
    sizes_by_level = np.bincount(ordered_levels)
    starts_by_level = np.cumsum(sizes_by_level) - sizes_by_level
    ranks = np.arange(count, dtype=np.int64) - starts_by_level[ordered_levels]
    sizes = sizes_by_level[ordered_levels]
    keys = ranks / sizes
    by_key = np.argsort(keys, kind="stable")  # stable: equal keys keep the riskier level first
    sorted_keys = keys[by_key]
    cuts = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1)).astype(np.int64)
    return risk_order[by_key], cuts, _ShareAt(ranks[by_key], sizes[by_key])


def _best_reachable(path: RemovalPath, judged: ExactPrefixSums, candidates: np.ndarray) -> tuple[int, Fraction]:
    """The allowed cut with the lowest judged bad rate (the fewest removals among equals)."""
    values, value_error = judged.approximate()
    weights, weight_error = path.weight.approximate()
    total_value, total_weight = values[-1], weights[-1]
    kept_value = total_value - values[candidates]
    kept_weight = total_weight - weights[candidates]
    numerator_error = value_error[-1] + value_error[candidates] + abs(kept_value) * 2.0**-50 + 1.0
    denominator_error = weight_error[-1] + weight_error[candidates] + kept_weight * 2.0**-50 + 1.0
    # Interval arithmetic: any cut whose lowest possible rate is not above the best highest
    # possible rate may be the best one; those few are compared exactly.
    safe_denominator = np.maximum(kept_weight - denominator_error, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Rates are never negative, so the numerator's lower bound is clamped at 0.
        lowest = np.maximum(kept_value - numerator_error, 0.0) / (kept_weight + denominator_error)
        highest = np.where(safe_denominator > 0, (kept_value + numerator_error) / safe_denominator, np.inf)
    contenders = candidates[lowest <= highest.min()]
    best = min(contenders, key=lambda removed: (path.kept_rate(judged, int(removed)), int(removed)))
    return int(best), path.kept_rate(judged, int(best))
