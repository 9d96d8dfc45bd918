"""Each IoT warning rule fires exactly at its threshold, on hand-built streams: one step below
(1 ms, one reading unit, or one 1e-7 degree of position) nothing; at the threshold, the warning."""

from __future__ import annotations

import pytest

from scoring.errors import ScoringValueError
from scoring.iot.geo import Circle, Polygon, distance_mm, fence_from_dict, outside_mm
from scoring.iot.rules import CollateralProfile, evaluate
from scoring.iot.telemetry import (
    DAY_MS,
    HOUR_MS,
    Fix,
    Level,
    OrderCount,
    Reading,
    StatusSample,
    Telemetry,
    TemperatureSample,
)
from scoring.iot.thresholds import PROFILES, Thresholds, profile_for, response_deadline_ms, thresholds_for

T0 = 20_000 * DAY_MS  # midnight UTC
MIN = 60_000
SITE = (312_304_000, 1_214_737_000)  # Shanghai, degrees x 1e7
RETAIL, INDUSTRIAL = PROFILES["retail"], PROFILES["industrial"]


def rules_at(telemetry: Telemetry, profile: CollateralProfile, thresholds: Thresholds, now_ms: int, **kw) -> list[str]:
    return [f.rule for f in evaluate(telemetry, profile, thresholds, now_ms, **kw)]


# ---------------------------------------------------------------- red: equipment down


def test_equipment_down_fires_at_24_hours_of_downtime():
    status = [StatusSample(T0 - HOUR_MS, "running")] + [StatusSample(T0 + i * 30 * MIN, "down") for i in range(50)]
    profile = CollateralProfile()
    assert rules_at(Telemetry(status=status), profile, RETAIL, T0 + 24 * HOUR_MS - 1) == []
    (finding,) = evaluate(Telemetry(status=status), profile, RETAIL, T0 + 24 * HOUR_MS)
    assert (finding.rule, finding.level, finding.measure) == ("red.equipment_down", Level.RED, 24 * HOUR_MS)
    assert finding.observed_at_ms == T0 + 24 * HOUR_MS


def test_a_device_that_goes_dark_counts_as_down_once_its_last_sample_expires():
    status = [StatusSample(T0, "running")]
    dark_since = T0 + RETAIL.sample_hold_ms
    assert rules_at(Telemetry(status=status), CollateralProfile(), RETAIL, dark_since + 24 * HOUR_MS - 1) == []
    (finding,) = evaluate(Telemetry(status=status), CollateralProfile(), RETAIL, dark_since + 24 * HOUR_MS)
    assert finding.detail == {"state": "silent"}


def test_running_again_resets_the_downtime():
    status = [StatusSample(T0, "down"), StatusSample(T0 + 20 * HOUR_MS, "running")]
    status += [StatusSample(T0 + 20 * HOUR_MS + i * 30 * MIN, "fault") for i in range(1, 10)]
    assert rules_at(Telemetry(status=status), CollateralProfile(), RETAIL, T0 + 25 * HOUR_MS) == []


# ---------------------------------------------------------------- red: temperature


def _temperatures(out_intervals: list[tuple[int, int]], until: int, step: int = 10 * MIN) -> list[TemperatureSample]:
    samples = []
    for ts in range(T0, until + 1, step):
        out = any(start <= ts < end for start, end in out_intervals)
        samples.append(TemperatureSample(ts, 12_000 if out else 4_000))
    return samples


def test_cold_chain_fires_at_4_hours_out_of_range_in_total():
    profile = CollateralProfile(temperature_range=(2_000, 8_000))
    out = [(T0 + 1 * HOUR_MS, T0 + 3 * HOUR_MS), (T0 + 5 * HOUR_MS, T0 + 24 * HOUR_MS)]  # 2 h, then again
    now = T0 + 7 * HOUR_MS
    assert rules_at(Telemetry(temperature=_temperatures(out, now - 1)), profile, RETAIL, now - 1) == []
    (finding,) = evaluate(Telemetry(temperature=_temperatures(out, now)), profile, RETAIL, now)
    assert (finding.rule, finding.measure, finding.threshold) == ("red.temperature", 4 * HOUR_MS, 4 * HOUR_MS)
    assert finding.observed_at_ms == now
    assert finding.detail["extreme_milli_c"] == 12_000


def test_industrial_kettle_fires_at_2_hours_over_temperature():
    profile = CollateralProfile(temperature_range=(60_000, 180_000))
    samples = lambda until: [TemperatureSample(ts, 195_000) for ts in range(T0, until + 1, MIN)]  # noqa: E731
    now = T0 + 2 * HOUR_MS
    assert rules_at(Telemetry(temperature=samples(now - 1)), profile, INDUSTRIAL, now - 1) == []
    assert rules_at(Telemetry(temperature=samples(now)), profile, INDUSTRIAL, now) == ["red.temperature"]
    assert rules_at(Telemetry(temperature=samples(now)), profile, RETAIL, now) == []  # cold chain allows 4 h


def test_a_silent_sensor_is_not_presumed_out_of_range_for_ever():
    profile = CollateralProfile(temperature_range=(2_000, 8_000))
    lone = [TemperatureSample(T0, 12_000)]  # holds for sample_hold_ms (1 h) only
    assert rules_at(Telemetry(temperature=lone), profile, RETAIL, T0 + 10 * HOUR_MS) == []


# ---------------------------------------------------------------- red: geofence and movement


def _first_lat_at_or_beyond(measure, start_lat: int, threshold_mm: int) -> int:
    """The smallest latitude (1e-7 degree steps, going north) whose measure reaches the threshold."""
    low, high = start_lat, start_lat + 10_000_000
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if measure(mid) >= threshold_mm else (mid, high)
    return high


@pytest.mark.parametrize(
    "fence",
    [
        Circle(SITE[0], SITE[1], 500),
        Polygon(((SITE[0] - 40_000, SITE[1] - 40_000), (SITE[0] - 40_000, SITE[1] + 40_000),
                 (SITE[0] + 40_000, SITE[1] + 40_000), (SITE[0] + 40_000, SITE[1] - 40_000))),
    ],
    ids=["circle", "polygon"],
)
def test_geofence_fires_at_the_tolerance_outside_the_fence(fence):
    profile = CollateralProfile(fence=fence)
    lat = _first_lat_at_or_beyond(lambda la: outside_mm(fence, la, SITE[1]), SITE[0], 50_000)
    now = T0 + HOUR_MS
    inside = Fix(now - 10 * MIN, SITE[0], SITE[1])
    assert rules_at(Telemetry(fixes=[inside, Fix(now, lat - 1, SITE[1])]), profile, RETAIL, now) == []
    (finding,) = evaluate(Telemetry(fixes=[inside, Fix(now, lat, SITE[1])]), profile, RETAIL, now)
    assert finding.rule == "red.geofence" and finding.measure >= 50_000 > outside_mm(fence, lat - 1, SITE[1])
    assert finding.observed_at_ms == now


def test_polygon_edges_and_inside_are_inside():
    square = fence_from_dict({"polygon": [[0, 0], [0, 10_000], [10_000, 10_000], [10_000, 0], [0, 0]]})
    assert outside_mm(square, 5_000, 5_000) == 0
    assert outside_mm(square, 0, 5_000) == 0
    assert 1_100_000 < outside_mm(square, -100_000, 5_000) < 1_120_000  # 0.01 degree south: ~1.11 km


def test_stationary_asset_fires_when_moved_100_m_from_home():
    fence = Circle(SITE[0], SITE[1], 5_000)  # a big site: leaving it is another rule
    profile = CollateralProfile(fence=fence, stationary=True)
    lat = _first_lat_at_or_beyond(lambda la: distance_mm(SITE[0], SITE[1], la, SITE[1]), SITE[0], 100_000)
    now = T0 + HOUR_MS
    assert rules_at(Telemetry(fixes=[Fix(now, lat - 1, SITE[1])]), profile, RETAIL, now) == []
    assert rules_at(Telemetry(fixes=[Fix(now, lat, SITE[1])]), profile, RETAIL, now) == ["red.movement"]
    mobile = CollateralProfile(fence=fence, stationary=False)
    assert rules_at(Telemetry(fixes=[Fix(now, lat, SITE[1])]), mobile, RETAIL, now) == []


def test_a_reviewed_excursion_does_not_fire_again():
    profile = CollateralProfile(fence=Circle(SITE[0], SITE[1], 500))
    away = Fix(T0, SITE[0] + 1_000_000, SITE[1])  # ~11 km north
    assert rules_at(Telemetry(fixes=[away]), profile, RETAIL, T0 + MIN) == ["red.geofence"]
    assert rules_at(Telemetry(fixes=[away]), profile, RETAIL, T0 + MIN, not_before_ms={"red.geofence": T0 + 1}) == []


# ---------------------------------------------------------------- yellow


def _utilisation(baseline: int, streak: list[int]) -> list[Reading]:
    days = [baseline] * 7 + streak
    return [Reading(T0 + d * DAY_MS + 23 * HOUR_MS, bps) for d, bps in enumerate(days)]


def test_utilisation_fires_when_down_10_percent_three_days_running():
    now = T0 + 10 * DAY_MS
    profile = CollateralProfile()
    assert rules_at(Telemetry(utilisation=_utilisation(8_000, [7_201, 7_200, 7_200])), profile, RETAIL, now) == []
    (finding,) = evaluate(Telemetry(utilisation=_utilisation(8_000, [7_200, 7_200, 7_200])), profile, RETAIL, now)
    assert (finding.rule, finding.level, finding.measure) == ("yellow.utilisation", Level.YELLOW, 1_000)
    assert rules_at(Telemetry(utilisation=_utilisation(8_000, [7_000, 7_000])), profile, RETAIL, now) == []


def test_utilisation_days_must_be_consecutive():
    readings = _utilisation(8_000, [7_000, 7_000])
    readings.append(Reading(T0 + 10 * DAY_MS + HOUR_MS, 7_000))  # a gap day before the third
    assert rules_at(Telemetry(utilisation=readings), CollateralProfile(), RETAIL, T0 + 11 * DAY_MS) == []


def test_order_delay_fires_at_20_percent():
    now = T0 + 3 * DAY_MS
    orders = lambda delayed: [OrderCount(T0 + DAY_MS, 60, delayed - 5), OrderCount(T0 + 2 * DAY_MS, 40, 5)]  # noqa: E731
    assert rules_at(Telemetry(orders=orders(19)), CollateralProfile(), RETAIL, now) == []
    (finding,) = evaluate(Telemetry(orders=orders(20)), CollateralProfile(), RETAIL, now)
    assert (finding.rule, finding.measure, finding.threshold) == ("yellow.order_delay", 2_000, 2_000)


def test_order_delay_needs_enough_orders_to_mean_something():
    few = [OrderCount(T0, 9, 9)]
    assert rules_at(Telemetry(orders=few), CollateralProfile(), RETAIL, T0 + HOUR_MS) == []


# ---------------------------------------------------------------- blue


def _energy(values: list[int]) -> list[Reading]:
    return [Reading(T0 + d * DAY_MS + 12 * HOUR_MS, wh) for d, wh in enumerate(values)]


def test_energy_fluctuation_fires_at_a_30_percent_coefficient_of_variation():
    now = T0 + 7 * DAY_MS + HOUR_MS  # today (day 7) is excluded, days 0-6 are complete
    exactly = [1_500, 500, 1_250, 750, 1_050, 950, 1_000]  # mean 1000, population sd 300
    below = [1_499, 501, 1_250, 750, 1_050, 950, 1_000]
    assert rules_at(Telemetry(energy=_energy(below)), CollateralProfile(), RETAIL, now) == []
    (finding,) = evaluate(Telemetry(energy=_energy(exactly)), CollateralProfile(), RETAIL, now)
    assert (finding.rule, finding.level, finding.measure) == ("blue.energy_fluctuation", Level.BLUE, 3_000)
    assert rules_at(Telemetry(energy=_energy(exactly[:6])), CollateralProfile(), RETAIL, now) == []  # a day missing


def test_footfall_fires_when_down_15_percent_month_on_month():
    now = T0 + 60 * DAY_MS
    flow = lambda current: [Reading(now - 45 * DAY_MS, 10_000), Reading(now - DAY_MS, current)]  # noqa: E731
    assert rules_at(Telemetry(footfall=flow(8_501)), CollateralProfile(), RETAIL, now) == []
    (finding,) = evaluate(Telemetry(footfall=flow(8_500)), CollateralProfile(), RETAIL, now)
    assert (finding.rule, finding.level, finding.measure) == ("blue.footfall", Level.BLUE, 1_500)


# ---------------------------------------------------------------- profiles and ordering


def test_findings_come_most_severe_first():
    telemetry = Telemetry(footfall=[Reading(T0 + 15 * DAY_MS, 100), Reading(T0 + 59 * DAY_MS, 10)],
                          fixes=[Fix(T0 + 60 * DAY_MS, SITE[0] + 1_000_000, SITE[1])])
    profile = CollateralProfile(fence=Circle(SITE[0], SITE[1], 500))
    assert rules_at(telemetry, profile, RETAIL, T0 + 60 * DAY_MS) == ["red.geofence", "blue.footfall"]


def test_industries_map_to_profiles_and_overrides_apply_per_profile():
    assert profile_for("manufacturing") == "industrial" and profile_for("logistics") == "retail"
    tuned = thresholds_for("retail", {"retail": {"order_delay_bps": 2_500}, "industrial": {"down_ms": 1}})
    assert tuned.order_delay_bps == 2_500 and tuned.down_ms == 24 * HOUR_MS
    with pytest.raises(ScoringValueError):
        thresholds_for("retail", {"retail": {"no_such_threshold": 1}})
    with pytest.raises(ScoringValueError):
        profile_for("piracy")
    assert [response_deadline_ms(level) // HOUR_MS for level in (Level.RED, Level.YELLOW, Level.BLUE)] == [2, 24, 72]
