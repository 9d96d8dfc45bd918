"""Residual value of a pledged machine from its age, operating hours and failures (seed 000 §3.1).

Two wear measures, and the worse one governs (an old machine that barely ran has aged; a young
one run day and night has worn out):

* age: declining balance, ``(1 - annual_decline) ** years``;
* use: straight line over the rated life, ``1 - hours / rated_hours`` (0 at the end of life);

then every recorded failure takes ``failure_penalty_bps`` more, up to ``max_failure_penalty_bps``,
and the result never falls below the salvage share. Money is integer minor units; the
arithmetic is Decimal at 28 digits, so every party computes the same value.

The hours and failures come from the device's status samples (:func:`operating_hours`,
:func:`failure_count`) added to what was on the meter when the collateral was registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from scoring.errors import ScoringValueError
from scoring.iot.telemetry import BPS, HOUR_MS, RUNNING_STATES, StatusSample

DAYS_PER_YEAR = Decimal("365.25")
PPM = 1_000_000


@dataclass(frozen=True)
class ValuationParams:
    """How a class of equipment loses value (defaults: construction machinery)."""

    annual_decline_bps: int = 1_200
    rated_hours: int = 20_000
    failure_penalty_bps: int = 300
    max_failure_penalty_bps: int = 3_000
    salvage_bps: int = 1_000

    def __post_init__(self) -> None:
        for name in ("annual_decline_bps", "failure_penalty_bps", "max_failure_penalty_bps", "salvage_bps"):
            if not 0 <= getattr(self, name) <= BPS:
                raise ScoringValueError(f"{name} must be within 0..{BPS} bps")
        if self.rated_hours <= 0:
            raise ScoringValueError("rated_hours must be positive")


@dataclass(frozen=True)
class ResidualValue:
    """The estimate and its parts; factors in parts per million of the original cost."""

    value_minor: int
    residual_ppm: int
    age_factor_ppm: int
    usage_factor_ppm: int
    failure_factor_ppm: int
    governed_by: str  # "age", "usage" or "salvage"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def residual_value(
    cost_minor: int, age_days: int, operating_hours: Decimal | int, failures: int, params: ValuationParams | None = None
) -> ResidualValue:
    """The residual value of equipment bought for ``cost_minor``."""
    params = params or ValuationParams()
    if cost_minor < 0 or age_days < 0 or failures < 0 or operating_hours < 0:
        raise ScoringValueError("cost, age, hours and failures must not be negative")
    with localcontext() as ctx:
        ctx.prec = 28
        keep = 1 - Decimal(params.annual_decline_bps) / BPS
        age = keep ** (Decimal(age_days) / DAYS_PER_YEAR) if keep > 0 else Decimal(0 if age_days else 1)
        usage = max(Decimal(0), 1 - Decimal(operating_hours) / params.rated_hours)
        penalty = min(failures * params.failure_penalty_bps, params.max_failure_penalty_bps)
        failure = 1 - Decimal(penalty) / BPS
        salvage = Decimal(params.salvage_bps) / BPS
        worn = min(age, usage) * failure
        residual = max(worn, salvage)
        governed_by = "salvage" if salvage > worn else ("age" if age <= usage else "usage")
        value = (Decimal(cost_minor) * residual).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return ResidualValue(
            value_minor=int(value),
            residual_ppm=_ppm(residual),
            age_factor_ppm=_ppm(age),
            usage_factor_ppm=_ppm(usage),
            failure_factor_ppm=_ppm(failure),
            governed_by=governed_by,
        )


def operating_hours(status: Sequence[StatusSample], until_ms: int, hold_ms: int) -> Decimal:
    """Hours spent running: each running sample counts until the next sample, at most ``hold_ms``."""
    samples = sorted((s for s in status if s.ts_ms <= until_ms), key=lambda s: s.ts_ms)
    running_ms = 0
    for i, s in enumerate(samples):
        if s.state in RUNNING_STATES:
            following = samples[i + 1].ts_ms if i + 1 < len(samples) else until_ms
            running_ms += max(0, min(following, s.ts_ms + hold_ms, until_ms) - s.ts_ms)
    return Decimal(running_ms) / HOUR_MS


def failure_count(status: Sequence[StatusSample]) -> int:
    """How many times the equipment went into ``fault`` (consecutive fault samples count once)."""
    count, previous = 0, None
    for s in sorted(status, key=lambda s: s.ts_ms):
        if s.state == "fault" and previous != "fault":
            count += 1
        previous = s.state
    return count


def _ppm(fraction: Decimal) -> int:
    return int((fraction * PPM).quantize(Decimal(1), rounding=ROUND_HALF_UP))
