"""Backtest: the bad rate the model predicted against the one that happened, per vintage or overall.

Choices, so the numbers can be read without the code:

- Each exposure carries its 12-month PD from issuance (or from when it entered the pack,
  e.g. as a substitute). Risk is assumed to accrue at a constant hazard, so the
  probability of a default within t cycles is 1 - (1 - pd)^(t / horizon); past the
  horizon the same hazard is extrapolated.
- t counts the cycles since entry up to `cycles_elapsed`, stopped early by a prepayment
  (a prepaid loan can no longer default). A default does not stop t: the exposure was
  at risk for the whole window, and stopping at the default would make every default
  look predicted-unlikely.
- A default counts if it happened by `cycles_elapsed` and not after a prepayment.
  realised = defaults / exposures, predicted = expected defaults / exposures (by count).
- Each exposure is a Bernoulli trial with its own p, so the number of defaults has mean
  sum(p) and variance sum(p(1-p)); z = (actual - expected) / sqrt(variance). With no
  variance (nothing at risk yet) z is 0 if nothing happened and +-inf otherwise.
- Verdict: |z| <= 2 "in_line", z > 2 "worse" (more defaults than predicted), z < -2
  "better". Two standard errors flag about 5% of well-calibrated groups by chance, so a
  single "worse" is a prompt to look, not proof.

This is a monitoring statistic and is computed in floats; the ppm figures are rounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringValueError
from scoring.grading import PPM

Z_LIMIT = 2.0
GROUPINGS = ("vintage", "all")


@dataclass(frozen=True)
class Exposure:
    """One loan under observation; cycles are the pack's monitoring cycles (0 = issuance)."""

    loan_id: str
    vintage: str
    pd_ppm: int
    balance_minor: int
    defaulted_cycle: int | None
    prepaid_cycle: int | None
    entered_cycle: int = 0


@dataclass(frozen=True)
class BacktestRow:
    group: str
    assets: int
    expected_defaults: float
    actual_defaults: int
    predicted_ppm: int
    realised_ppm: int
    z_score: float
    verdict: str


def _check(exposure: Exposure) -> None:
    if not 0 <= exposure.pd_ppm <= PPM:
        raise ScoringValueError(f"loan {exposure.loan_id!r}: pd_ppm must lie in 0..{PPM}, got {exposure.pd_ppm}")
    for name in ("defaulted_cycle", "prepaid_cycle"):
        cycle = getattr(exposure, name)
        if cycle is not None and cycle < exposure.entered_cycle:
            raise ScoringValueError(f"loan {exposure.loan_id!r}: {name} {cycle} is before it entered ({exposure.entered_cycle})")


def default_probability_to_date(exposure: Exposure, cycles_elapsed: int, horizon_cycles: int) -> float:
    """P(default within the cycles observed so far) under a constant hazard."""
    end = cycles_elapsed
    if exposure.prepaid_cycle is not None:
        end = min(end, exposure.prepaid_cycle)
    observed = max(0, end - exposure.entered_cycle)
    return 1.0 - (1.0 - exposure.pd_ppm / PPM) ** (observed / horizon_cycles)


def defaulted_to_date(exposure: Exposure, cycles_elapsed: int) -> bool:
    cycle = exposure.defaulted_cycle
    if cycle is None or cycle > cycles_elapsed:
        return False
    return exposure.prepaid_cycle is None or cycle <= exposure.prepaid_cycle


def _z(actual: int, expected: float, variance: float) -> float:
    if variance > 0:
        return (actual - expected) / math.sqrt(variance)
    gap = actual - expected
    return 0.0 if abs(gap) < 1e-12 else math.copysign(math.inf, gap)


def verdict(z_score: float) -> str:
    if z_score > Z_LIMIT:
        return "worse"
    return "better" if z_score < -Z_LIMIT else "in_line"


def _row(group: str, exposures: Sequence[Exposure], cycles_elapsed: int, horizon_cycles: int) -> BacktestRow:
    probabilities = [default_probability_to_date(e, cycles_elapsed, horizon_cycles) for e in exposures]
    expected = math.fsum(probabilities)
    variance = math.fsum(p * (1.0 - p) for p in probabilities)
    actual = sum(defaulted_to_date(e, cycles_elapsed) for e in exposures)
    n = len(exposures)
    z = _z(actual, expected, variance)
    return BacktestRow(group=group, assets=n, expected_defaults=expected, actual_defaults=actual,
                       predicted_ppm=int(math.floor(expected / n * PPM + 0.5)),
                       realised_ppm=(2 * actual * PPM + n) // (2 * n), z_score=z, verdict=verdict(z))


def backtest(exposures: Sequence[Exposure], *, cycles_elapsed: int, horizon_cycles: int = 12,
             group_by: str = "vintage") -> list[BacktestRow]:
    """One row per vintage (sorted) or a single row "all"."""
    if group_by not in GROUPINGS:
        raise ScoringValueError(f"group_by must be one of {GROUPINGS}, got {group_by!r}")
    if cycles_elapsed < 0 or horizon_cycles <= 0:
        raise ScoringValueError("cycles_elapsed must be >= 0 and horizon_cycles > 0")
    for exposure in exposures:
        _check(exposure)
    if not exposures:
        return []
    if group_by == "all":
        return [_row("all", exposures, cycles_elapsed, horizon_cycles)]
    groups: dict[str, list[Exposure]] = {}
    for exposure in exposures:
        groups.setdefault(exposure.vintage, []).append(exposure)
    return [_row(vintage, groups[vintage], cycles_elapsed, horizon_cycles) for vintage in sorted(groups)]
