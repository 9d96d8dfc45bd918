"""Residual value of pledged equipment (seed 000 §3.1) and the disposal plans of each level."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.errors import ScoringValueError
from scoring.iot.disposal import DisposalPolicy, LoanLine, plan_disposal
from scoring.iot.telemetry import HOUR_MS, Level, StatusSample
from scoring.iot.value import ValuationParams, failure_count, operating_hours, residual_value

COST = 1_000_000_00  # 1,000,000.00 in minor units
YEAR = 365.25


def test_new_equipment_is_worth_its_cost():
    value = residual_value(COST, 0, 0, 0)
    assert value.value_minor == COST and value.residual_ppm == 1_000_000


def test_age_declines_by_the_annual_rate():
    value = residual_value(COST, 1461, 0, 0)  # 4 years of 365.25 days at 12 %: 0.88^4 = 0.59969536
    assert value.governed_by == "age"
    assert value.age_factor_ppm == 599_695 and value.value_minor == 59_969_536


def test_heavy_use_governs_a_young_machine():
    value = residual_value(COST, 365, 10_000, 0)  # half the rated 20,000 h in one year
    assert value.governed_by == "usage" and value.usage_factor_ppm == 500_000
    assert value.value_minor == 500_000_00


def test_each_failure_takes_3_percent_up_to_30():
    assert residual_value(COST, 0, 0, 2).value_minor == 940_000_00
    assert residual_value(COST, 0, 0, 10).value_minor == residual_value(COST, 0, 0, 25).value_minor == 700_000_00


def test_value_never_falls_below_salvage():
    value = residual_value(COST, int(30 * YEAR), 25_000, 12)
    assert value.governed_by == "salvage" and value.value_minor == 100_000_00


def test_more_age_hours_or_failures_never_raise_the_value():
    base = residual_value(COST, 700, 3_000, 1).value_minor
    assert residual_value(COST, 701, 3_000, 1).value_minor <= base
    assert residual_value(COST, 700, 3_001, 1).value_minor <= base
    assert residual_value(COST, 700, 3_000, 2).value_minor <= base


def test_bad_inputs_are_refused():
    with pytest.raises(ScoringValueError):
        residual_value(COST, -1, 0, 0)
    with pytest.raises(ScoringValueError):
        ValuationParams(salvage_bps=10_001)


def test_hours_and_failures_come_from_status_samples():
    t0 = 1_700_000_000_000
    status = [
        StatusSample(t0, "running"),
        StatusSample(t0 + HOUR_MS // 2, "running"),  # heartbeats extend the run
        StatusSample(t0 + HOUR_MS, "fault"),
        StatusSample(t0 + HOUR_MS + 60_000, "fault"),  # still the same failure
        StatusSample(t0 + 2 * HOUR_MS, "running"),
        StatusSample(t0 + 10 * HOUR_MS, "fault"),
    ]
    # running 1 h, then 1 h capped by the hold (the next sample is 8 h later)
    assert operating_hours(status, t0 + 12 * HOUR_MS, hold_ms=HOUR_MS) == Decimal(2)
    assert failure_count(status) == 2


# ---------------------------------------------------------------- disposal


LOANS = [LoanLine("L1", "B1", 2_000_000_00), LoanLine("L2", "B1", 500_000_00, frozen_bps=1_500)]


def test_blue_sends_a_reminder_and_freezes_nothing():
    plan = plan_disposal(Level.BLUE, LOANS)
    assert plan.freezes == () and not plan.open_review
    assert [(n.borrower_id, n.loan_ids, n.kind) for n in plan.notices] == [("B1", ("L1", "L2"), "reminder")]
    assert plan.respond_within_ms == 72 * HOUR_MS


def test_yellow_freezes_the_configured_share_where_not_already_frozen():
    plan = plan_disposal(Level.YELLOW, LOANS, DisposalPolicy(yellow_freeze_bps=1_500))
    assert [(f.loan_id, f.frozen_bps, f.amount_minor) for f in plan.freezes] == [("L1", 1_500, 300_000_00)]
    assert plan.open_review and plan.respond_within_ms == 24 * HOUR_MS
    with pytest.raises(ScoringValueError):
        DisposalPolicy(yellow_freeze_bps=2_500)


def test_red_freezes_all_undrawn_credit_and_opens_a_review():
    plan = plan_disposal(Level.RED, LOANS)
    assert [(f.loan_id, f.frozen_bps, f.amount_minor) for f in plan.freezes] == [
        ("L1", 10_000, 2_000_000_00), ("L2", 10_000, 500_000_00)]
    assert plan.open_review and plan.respond_within_ms == 2 * HOUR_MS
