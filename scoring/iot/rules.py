"""The warning rules of seed 000 section 2.1, as pure functions over one collateral's samples.

Each rule looks at a window of samples ending at ``now_ms`` and returns a :class:`Finding` when
its measure is at or above its threshold, else None. ``not_before_ms`` cuts the window: a rule
whose last warning a review resolved looks only at what came after (so the same evidence does
not raise the same warning again).

Red: equipment down (or silent) for ``down_ms``; temperature outside its range for
``temperature_out_ms`` in total; a fix outside the geofence by ``geofence_tolerance_m``; an
asset that should stay put moved ``stationary_move_m`` from home. Yellow: utilisation at least
``utilisation_drop_bps`` below its baseline on each of the last ``utilisation_days`` days with
data (consecutive days; the baseline is the mean of up to ``utilisation_baseline_days`` days
before them); an order delay rate of ``order_delay_bps``. Blue: a coefficient of variation
(population standard deviation / mean) of daily energy use over the last ``energy_days``
complete days of ``energy_cv_bps``; footfall of the last ``footfall_period_ms`` down
``footfall_drop_bps`` on the period before.

Samples are sample-and-hold: a status or temperature sample describes the time until the next
one, for at most ``sample_hold_ms`` (a sensor that stops reporting is not presumed in range).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

from scoring.iot.geo import Fence, distance_mm, outside_mm
from scoring.iot.telemetry import BPS, DAY_MS, DOWN_STATES, Finding, Fix, Level, Reading, Telemetry
from scoring.iot.thresholds import Thresholds


@dataclass(frozen=True)
class CollateralProfile:
    """What the rules need to know about the collateral itself."""

    fence: Fence | None = None
    temperature_range: tuple[int, int] | None = None  # milli-degrees C, inclusive
    stationary: bool = False  # installed equipment that must not move
    home: tuple[int, int] | None = None  # (lat_e7, lon_e7); default: the fence's centre


def equipment_down(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    samples = sorted((s for s in t.status if s.ts_ms <= now_ms), key=lambda s: s.ts_ms)
    if not samples:
        return None
    if samples[-1].state in DOWN_STATES:
        first = len(samples) - 1
        while first > 0 and samples[first - 1].state in DOWN_STATES:
            first -= 1
        since, how = samples[first].ts_ms, samples[-1].state
    else:  # no report for longer than a sample holds: the equipment has gone dark
        since, how = samples[-1].ts_ms + th.sample_hold_ms, "silent"
    since = max(since, nb)
    duration = now_ms - since
    if duration < th.down_ms or duration <= 0:
        return None
    return Finding("red.equipment_down", Level.RED, duration, th.down_ms, "ms", since + th.down_ms, since, now_ms,
                   {"state": how})


def temperature(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    if p.temperature_range is None:
        return None
    low, high = p.temperature_range
    start = max(now_ms - th.temperature_lookback_ms, nb)
    samples = sorted((s for s in t.temperature if s.ts_ms <= now_ms), key=lambda s: s.ts_ms)
    total, reached_at, extreme = 0, None, None
    for i, s in enumerate(samples):
        if low <= s.milli_c <= high:
            continue
        following = samples[i + 1].ts_ms if i + 1 < len(samples) else now_ms
        seg_start, seg_end = max(s.ts_ms, start), min(following, s.ts_ms + th.sample_hold_ms, now_ms)
        if seg_end <= seg_start:
            continue
        if reached_at is None and total + (seg_end - seg_start) >= th.temperature_out_ms:
            reached_at = seg_start + (th.temperature_out_ms - total)
        total += seg_end - seg_start
        if extreme is None or _excess(s.milli_c, low, high) > _excess(extreme, low, high):
            extreme = s.milli_c
    if total <= 0 or total < th.temperature_out_ms:
        return None
    return Finding("red.temperature", Level.RED, total, th.temperature_out_ms, "ms", reached_at or now_ms, start, now_ms,
                   {"range_milli_c": [low, high], "extreme_milli_c": extreme})


def geofence(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    if p.fence is None:
        return None
    start = max(now_ms - th.location_lookback_ms, nb)
    tolerance_mm = th.geofence_tolerance_m * 1000
    worst, first_out = 0, None
    for fix in sorted(_fixes_in(t.fixes, start, now_ms), key=lambda f: f.ts_ms):
        distance = outside_mm(p.fence, fix.lat_e7, fix.lon_e7)
        if distance > 0 and distance >= tolerance_mm and first_out is None:
            first_out = fix
        worst = max(worst, distance)
    if first_out is None:
        return None
    return Finding("red.geofence", Level.RED, worst, tolerance_mm, "mm", first_out.ts_ms, start, now_ms,
                   {"lat_e7": first_out.lat_e7, "lon_e7": first_out.lon_e7})


def movement(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    if not p.stationary:
        return None
    start = max(now_ms - th.location_lookback_ms, nb)
    fixes = sorted(_fixes_in(t.fixes, start, now_ms), key=lambda f: f.ts_ms)
    if not fixes:
        return None
    home = p.home or (p.fence.centre if p.fence is not None else (fixes[0].lat_e7, fixes[0].lon_e7))
    threshold_mm = th.stationary_move_m * 1000
    worst, first_moved = 0, None
    for fix in fixes:
        moved = distance_mm(home[0], home[1], fix.lat_e7, fix.lon_e7)
        if moved > 0 and moved >= threshold_mm and first_moved is None:
            first_moved = fix
        worst = max(worst, moved)
    if first_moved is None:
        return None
    return Finding("red.movement", Level.RED, worst, threshold_mm, "mm", first_moved.ts_ms, start, now_ms,
                   {"home": list(home)})


def utilisation(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    daily = _daily(t.utilisation, nb, now_ms, mean=True)
    if len(daily) < th.utilisation_days + 1:
        return None
    days = sorted(daily)
    streak = days[-th.utilisation_days :]
    if streak[-1] - streak[0] != th.utilisation_days - 1:
        return None  # not consecutive days
    baseline_days = [d for d in days if streak[0] - th.utilisation_baseline_days <= d < streak[0]]
    if not baseline_days:
        return None
    baseline = sum((daily[d] for d in baseline_days), Fraction(0)) / len(baseline_days)
    if baseline <= 0:
        return None
    drops = [(baseline - daily[d]) * BPS / baseline for d in streak]
    if min(drops) < th.utilisation_drop_bps:
        return None
    return Finding("yellow.utilisation", Level.YELLOW, int(min(drops)), th.utilisation_drop_bps, "bps",
                   now_ms, baseline_days[0] * DAY_MS, now_ms,
                   {"baseline_bps": float(baseline), "days": {str(d): float(daily[d]) for d in streak}})


def order_delay(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    start = max(now_ms - th.order_lookback_ms, nb)
    window = [o for o in t.orders if start <= o.ts_ms <= now_ms]
    total, delayed = sum(o.total for o in window), sum(o.delayed for o in window)
    if total == 0 or total < th.min_orders or delayed * BPS < th.order_delay_bps * total:
        return None
    return Finding("yellow.order_delay", Level.YELLOW, delayed * BPS // total, th.order_delay_bps, "bps", now_ms,
                   start, now_ms, {"orders": total, "delayed": delayed})


def energy_fluctuation(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    today = now_ms // DAY_MS
    wanted = range(today - th.energy_days, today)  # complete days only: today is still filling
    daily = _daily(t.energy, max(nb, wanted[0] * DAY_MS), wanted[-1] * DAY_MS + DAY_MS - 1, mean=False)
    if any(d not in daily for d in wanted):
        return None
    n, s = len(wanted), sum(int(daily[d]) for d in wanted)
    q = sum(int(daily[d]) ** 2 for d in wanted)
    spread = n * q - s * s  # n^2 x variance
    if s <= 0 or BPS * BPS * spread < th.energy_cv_bps * th.energy_cv_bps * s * s:
        return None
    return Finding("blue.energy_fluctuation", Level.BLUE, isqrt(BPS * BPS * spread // (s * s)), th.energy_cv_bps,
                   "bps", now_ms, wanted[0] * DAY_MS, now_ms, {"daily_wh": [int(daily[d]) for d in wanted]})


def footfall(t: Telemetry, p: CollateralProfile, th: Thresholds, now_ms: int, nb: int = 0) -> Finding | None:
    period = th.footfall_period_ms
    if now_ms - period < nb:
        return None  # the current period must lie wholly after the last review
    current = sum(r.value for r in t.footfall if now_ms - period < r.ts_ms <= now_ms)
    previous = sum(r.value for r in t.footfall if now_ms - 2 * period < r.ts_ms <= now_ms - period)
    if previous <= 0 or (previous - current) * BPS < th.footfall_drop_bps * previous:
        return None
    return Finding("blue.footfall", Level.BLUE, (previous - current) * BPS // previous, th.footfall_drop_bps, "bps",
                   now_ms, now_ms - 2 * period, now_ms, {"current": current, "previous": previous})


Rule = Callable[[Telemetry, CollateralProfile, Thresholds, int, int], Finding | None]
RULES: Mapping[str, Rule] = {
    "red.equipment_down": equipment_down,
    "red.temperature": temperature,
    "red.geofence": geofence,
    "red.movement": movement,
    "yellow.utilisation": utilisation,
    "yellow.order_delay": order_delay,
    "blue.energy_fluctuation": energy_fluctuation,
    "blue.footfall": footfall,
}


def evaluate(
    telemetry: Telemetry,
    profile: CollateralProfile,
    thresholds: Thresholds,
    now_ms: int,
    not_before_ms: Mapping[str, int] | None = None,
    rules: Sequence[str] | None = None,
) -> list[Finding]:
    """Every rule's finding at ``now_ms``, most severe first."""
    not_before_ms = not_before_ms or {}
    findings = []
    for name in rules or RULES:
        found = RULES[name](telemetry, profile, thresholds, now_ms, not_before_ms.get(name, 0))
        if found is not None:
            findings.append(found)
    return sorted(findings, key=lambda f: (-f.level, f.rule))


def _excess(milli_c: int, low: int, high: int) -> int:
    return low - milli_c if milli_c < low else milli_c - high


def _fixes_in(fixes: Sequence[Fix], start: int, end: int) -> list[Fix]:
    return [f for f in fixes if start <= f.ts_ms <= end]


def _daily(readings: Sequence[Reading], start: int, end: int, *, mean: bool) -> dict[int, Fraction]:
    buckets: dict[int, list[int]] = defaultdict(list)
    for r in readings:
        if start <= r.ts_ms <= end:
            buckets[r.ts_ms // DAY_MS].append(r.value)
    return {day: Fraction(sum(v), len(v) if mean else 1) for day, v in buckets.items()}
