"""Warning thresholds, per industry profile, and the response deadline of each level.

The defaults are DESIGN step 9 / seed 000 section 2.1. Seed 000 asks for industrial and retail
thresholds to be set apart; the one place where the seed itself gives a different number is
temperature: its reactor-kettle case raises red after 2 consecutive hours over the limit, where
the cold-chain rule allows 4 hours in total. So ``industrial`` (process equipment) uses 2 h and
``retail`` (shops, logistics, cold chain) 4 h; everything else is shared and can be overridden
per profile (``thresholds_for(profile, overrides)``).

Every rule fires when its measure is at or above its threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from scoring.errors import ScoringValueError
from scoring.iot.telemetry import DAY_MS, HOUR_MS, Level

RESPONSE_DEADLINE_MS: Mapping[Level, int] = {Level.RED: 2 * HOUR_MS, Level.YELLOW: 24 * HOUR_MS, Level.BLUE: 72 * HOUR_MS}


@dataclass(frozen=True)
class Thresholds:
    """Every rule's threshold and the window it looks at (durations in ms, rates in bps)."""

    # red
    down_ms: int = 24 * HOUR_MS  # equipment down (or silent) this long
    temperature_out_ms: int = 4 * HOUR_MS  # total time outside the temperature range
    temperature_lookback_ms: int = 24 * HOUR_MS
    sample_hold_ms: int = HOUR_MS  # a temperature/status sample counts for at most this long
    geofence_tolerance_m: int = 50  # GNSS error allowance outside the fence
    stationary_move_m: int = 100  # displacement of an asset that should not move
    location_lookback_ms: int = 24 * HOUR_MS
    # yellow
    utilisation_drop_bps: int = 1_000  # below the baseline, on each of `utilisation_days` days
    utilisation_days: int = 3
    utilisation_baseline_days: int = 7
    order_delay_bps: int = 2_000
    order_lookback_ms: int = 7 * DAY_MS
    min_orders: int = 10  # fewer orders in the window say nothing about a delay rate
    # blue
    energy_cv_bps: int = 3_000  # coefficient of variation of daily energy use
    energy_days: int = 7
    footfall_drop_bps: int = 1_500  # month on month: the last 30 days against the 30 before
    footfall_period_ms: int = 30 * DAY_MS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ScoringValueError(f"threshold {f.name} must be a non-negative integer, got {value!r}")
        if self.utilisation_days < 1 or self.utilisation_baseline_days < 1 or self.energy_days < 2:
            raise ScoringValueError("utilisation needs >= 1 day and baseline day; energy >= 2 days")

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Thresholds:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ScoringValueError(f"unknown thresholds {unknown}; known: {sorted(known)}")
        return replace(self, **dict(overrides))

    def lookback_ms(self) -> int:
        """How much history any rule needs (the evaluation loads this much)."""
        return max(
            self.down_ms + self.sample_hold_ms,
            self.temperature_lookback_ms + self.sample_hold_ms,
            self.location_lookback_ms,
            (self.utilisation_days + self.utilisation_baseline_days + 1) * DAY_MS,
            self.order_lookback_ms,
            (self.energy_days + 1) * DAY_MS,
            2 * self.footfall_period_ms,
        )


PROFILES: Mapping[str, Thresholds] = {
    "industrial": Thresholds(temperature_out_ms=2 * HOUR_MS),
    "retail": Thresholds(),
}

# Industries of the credit schema (scoring.data.schema.INDUSTRIES) and the profile they use.
INDUSTRY_PROFILE: Mapping[str, str] = {
    "manufacturing": "industrial",
    "construction": "industrial",
    "agriculture": "industrial",
    "retail": "retail",
    "logistics": "retail",
    "hospitality": "retail",
    "services": "retail",
    "technology": "retail",
}


def profile_for(industry_or_profile: str) -> str:
    """The profile of an industry (or a profile name itself)."""
    key = industry_or_profile.strip().lower()
    if key in PROFILES:
        return key
    try:
        return INDUSTRY_PROFILE[key]
    except KeyError:
        raise ScoringValueError(
            f"unknown industry {industry_or_profile!r}; profiles {sorted(PROFILES)}, industries {sorted(INDUSTRY_PROFILE)}"
        ) from None


def thresholds_for(
    industry_or_profile: str, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> Thresholds:
    """The thresholds of a profile, with ``overrides[profile]`` applied (e.g. from settings)."""
    profile = profile_for(industry_or_profile)
    return PROFILES[profile].with_overrides((overrides or {}).get(profile))


def response_deadline_ms(level: Level) -> int:
    return RESPONSE_DEADLINE_MS[level]
