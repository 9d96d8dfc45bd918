"""What the IoT rules read and what they find: typed samples, warning levels and findings.

Times are integer unix milliseconds (``*_ms``); a day is a UTC calendar day, ``ts_ms // DAY_MS``.
Measures that are rates are integer basis points, temperatures milli-degrees Celsius and
positions degrees x 1e7 (as GNSS receivers report them), so no float ever decides a
threshold except the geometry of geofences (see ``scoring.iot.geo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
BPS = 10_000

RUNNING_STATES = frozenset({"running"})
DOWN_STATES = frozenset({"down", "fault"})
STATES = frozenset({"running", "idle", "down", "fault"})


class Level(IntEnum):
    """Warning levels of seed 000, valued as ``ICollateralRegistry.Level`` on chain."""

    BLUE = 1  # reminder: respond within 72 h
    YELLOW = 2  # attention: respond within 24 h
    RED = 3  # emergency: respond within 2 h

    @classmethod
    def from_name(cls, name: str) -> Level:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"{name!r} is not a warning level (blue, yellow, red)") from None


@dataclass(frozen=True)
class StatusSample:
    """The equipment's state from ``ts_ms`` until the next sample: running, idle, down or fault."""

    ts_ms: int
    state: str


@dataclass(frozen=True)
class TemperatureSample:
    ts_ms: int
    milli_c: int


@dataclass(frozen=True)
class Fix:
    """A position fix, degrees x 1e7."""

    ts_ms: int
    lat_e7: int
    lon_e7: int


@dataclass(frozen=True)
class Reading:
    """A reported quantity: utilisation (bps of the day), energy (Wh), footfall (visitors)."""

    ts_ms: int
    value: int


@dataclass(frozen=True)
class OrderCount:
    """Orders completed in a reporting period and how many of them were late."""

    ts_ms: int
    total: int
    delayed: int


@dataclass(frozen=True)
class Telemetry:
    """One collateral's samples, each series in any order (rules sort what they need)."""

    status: Sequence[StatusSample] = ()
    temperature: Sequence[TemperatureSample] = ()
    fixes: Sequence[Fix] = ()
    utilisation: Sequence[Reading] = ()
    orders: Sequence[OrderCount] = ()
    energy: Sequence[Reading] = ()
    footfall: Sequence[Reading] = ()


@dataclass(frozen=True)
class Finding:
    """A rule that reached its threshold: what it measured, against what, and from when.

    ``measure`` and ``threshold`` share ``unit``; ``observed_at_ms`` is when the threshold was
    first reached (or the newest sample that shows it); ``evidence_from_ms``/``evidence_to_ms``
    bound the samples the rule looked at.
    """

    rule: str
    level: Level
    measure: int
    threshold: int
    unit: str
    observed_at_ms: int
    evidence_from_ms: int
    evidence_to_ms: int
    detail: dict = field(default_factory=dict, compare=False)
