"""A pack's bad rate (patent claim 6) and its level mix, exactly.

Two estimates of the same thing, both shown in reports:

- level-based (the patent's): sum over levels of the level's historical bad rate x the
  level's weight, the weight being its share of the pack by count or by outstanding
  balance. Rates 5%, 7%, 10% with weights 0.2, 0.3, 0.5 give exactly 8.1%.
- PD-based: the mean of each asset's model PD, weighted the same way.

Both are weighted means of a per-asset rate, so each is kept as an exact Fraction
(sum(rate x weight) / (1e6 x sum(weight))) and rendered to ppm only for display;
comparisons with a target use the Fraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction

import numpy as np

from scoring.errors import ScoringValueError
from scoring.exact_sums import exact_dot, exact_group_sums
from scoring.grading import PPM, LevelTable


class WeightBy(str, Enum):
    """What a level's (or an asset's) weight in the pack is measured by."""

    COUNT = "count"
    BALANCE = "balance"


def ppm_half_up(value: Fraction) -> int:
    """A rate as integer parts per million, rounded half up."""
    scaled = value * PPM
    return (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)


@dataclass(frozen=True)
class BadRate:
    """An exact bad rate (a fraction of 1) with its ppm rendering."""

    exact: Fraction

    @classmethod
    def from_sums(cls, rate_times_weight_ppm: int, total_weight: int) -> BadRate:
        """From sum(rate_ppm x weight) and sum(weight)."""
        if total_weight <= 0:
            raise ScoringValueError("a bad rate needs a positive total weight (an empty pack has none)")
        return cls(Fraction(rate_times_weight_ppm, total_weight * PPM))

    @property
    def ppm(self) -> int:
        return ppm_half_up(self.exact)

    def meets(self, expected_bad_rate_ppm: int) -> bool:
        """True if this rate does not exceed the expected rate (exact comparison)."""
        return self.exact <= Fraction(expected_bad_rate_ppm, PPM)


def weighted_bad_rate(bad_rates_ppm: Sequence[int], weights: Sequence[int | Fraction | Decimal]) -> BadRate:
    """sum(bad rate x weight) / sum(weight): claim 6's weighting, for any exact weights.

    >>> weighted_bad_rate([50_000, 70_000, 100_000], [Fraction(2, 10), Fraction(3, 10), Fraction(5, 10)]).ppm
    81000
    """
    if len(bad_rates_ppm) != len(weights) or not weights:
        raise ScoringValueError("need one weight per bad rate, and at least one")
    exact_weights = []
    for weight in weights:
        if isinstance(weight, (float, bool)) or not isinstance(weight, (int, np.integer, Fraction, Decimal)):
            raise ScoringValueError(f"weights must be exact (int, Fraction or Decimal), got {weight!r}")
        if weight < 0:
            raise ScoringValueError(f"weights cannot be negative, got {weight!r}")
        exact_weights.append(Fraction(weight))
    total = sum(exact_weights)
    if total <= 0:
        raise ScoringValueError("weights must not all be zero")
    weighted = sum(Fraction(int(rate)) * weight for rate, weight in zip(bad_rates_ppm, exact_weights))
    return BadRate(weighted / (total * PPM))


@dataclass(frozen=True)
class LevelMix:
    """How many assets, and how much outstanding balance, each level holds (level 1 first)."""

    counts: tuple[int, ...]
    balances: tuple[int, ...]

    @property
    def total_count(self) -> int:
        return sum(self.counts)

    @property
    def total_balance(self) -> int:
        return sum(self.balances)

    def weights(self, weight_by: WeightBy) -> tuple[int, ...]:
        return self.counts if WeightBy(weight_by) is WeightBy.COUNT else self.balances

    def shares_ppm(self, weight_by: WeightBy) -> tuple[int, ...]:
        """Each level's share of the pack, in ppm (display only: rounding makes them sum near 1e6)."""
        weights = self.weights(weight_by)
        total = sum(weights)
        return tuple(ppm_half_up(Fraction(weight, total)) if total else 0 for weight in weights)


def level_mix(levels: np.ndarray, balances: np.ndarray, level_count: int) -> LevelMix:
    """Counts and exact balance sums per level of the given assets."""
    counts = np.bincount(levels, minlength=level_count + 1)[1:]
    return LevelMix(
        counts=tuple(int(count) for count in counts),
        balances=tuple(exact_group_sums(balances, levels - 1, level_count)),
    )


def level_based_bad_rate(mix: LevelMix, table: LevelTable, weight_by: WeightBy) -> BadRate:
    """Claim 6: sum of level bad rate x level weight, over the levels the pack holds."""
    weights = mix.weights(weight_by)
    missing = [
        level for level, weight in enumerate(weights, start=1) if weight and table.bad_rate_ppm[level - 1] is None
    ]
    if missing:
        raise ScoringValueError(f"levels {missing} have no historical bad rate, so a pack holding them cannot be rated")
    weighted = sum((rate or 0) * weight for rate, weight in zip(table.bad_rate_ppm, weights))
    return BadRate.from_sums(weighted, sum(weights))


def pd_based_bad_rate(pd_ppm: np.ndarray, balances: np.ndarray, weight_by: WeightBy) -> BadRate:
    """Mean model PD of the assets, weighted by count or by outstanding balance."""
    if WeightBy(weight_by) is WeightBy.COUNT:
        return BadRate.from_sums(exact_dot(pd_ppm, np.ones_like(pd_ppm)), int(pd_ppm.size))
    return BadRate.from_sums(exact_dot(pd_ppm, balances), exact_dot(np.ones_like(balances), balances))


@dataclass(frozen=True)
class PackEstimate:
    """Both bad-rate estimates of a pack and its level mix."""

    level_based: BadRate
    pd_based: BadRate
    mix: LevelMix


def estimate_pack(
    levels: np.ndarray, pd_ppm: np.ndarray, balances: np.ndarray, table: LevelTable, weight_by: WeightBy
) -> PackEstimate:
    """Level mix plus the level-based and the PD-based bad rate of the given assets."""
    mix = level_mix(levels, balances, table.level_count)
    return PackEstimate(
        level_based=level_based_bad_rate(mix, table, weight_by),
        pd_based=pd_based_bad_rate(pd_ppm, balances, weight_by),
        mix=mix,
    )
